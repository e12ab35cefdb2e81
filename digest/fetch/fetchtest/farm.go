// Package fetchtest provides a feed farm for tests and benchmarks of feed
// fetching: one in-process HTTP server that serves many realistic RSS feeds
// under many host names, generated on the fly so that a farm of thousands
// of 60 KB feeds costs no memory.
//
// It imports no parser: benchmarks compare against gofeed themselves.
package fetchtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Farm serves Feeds feeds of Items items each, spread over Hosts host
// names ("h000.farm.test" ...) that its Resolver maps to the server.
type Farm struct {
	Feeds, Items, Hosts int

	server      *httptest.Server
	port        string
	conditional atomic.Bool
	requests    atomic.Int64
	notModified atomic.Int64
	bufs        sync.Pool
}

// NewFarm starts a farm. Close it when done. Conditional GET is on: a
// request with the feed's ETag gets 304.
func NewFarm(feeds, items, hosts int) *Farm {
	f := &Farm{Feeds: feeds, Items: items, Hosts: hosts}
	f.conditional.Store(true)
	f.bufs.New = func() any { return new(bytes.Buffer) }
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	_, f.port, _ = net.SplitHostPort(f.server.Listener.Addr().String())
	return f
}

// Close stops the server.
func (f *Farm) Close() { f.server.Close() }

// SetConditional turns conditional GET on or off. Off, the farm behaves
// like the many servers that ignore If-None-Match and send the same body
// again.
func (f *Farm) SetConditional(on bool) { f.conditional.Store(on) }

// Requests returns the number of requests served, and how many of them got
// 304.
func (f *Farm) Requests() (total, notModified int64) {
	return f.requests.Load(), f.notModified.Load()
}

// URL returns the address of feed i.
func (f *Farm) URL(i int) string {
	return fmt.Sprintf("http://h%03d.farm.test:%s/feeds/%d.xml", i%f.Hosts, f.port, i)
}

// Resolver resolves every *.farm.test name to the farm's address.
func (f *Farm) Resolver() farmResolver { return farmResolver{} }

type farmResolver struct{}

func (farmResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if strings.HasSuffix(host, ".farm.test") {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "not a farm host", Name: host, IsNotFound: true}
}

func (f *Farm) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	var i int
	if _, err := fmt.Sscanf(r.URL.Path, "/feeds/%d.xml", &i); err != nil || i < 0 || i >= f.Feeds {
		http.NotFound(w, r)
		return
	}
	etag := `"farm-` + strconv.Itoa(i) + `"`
	if f.conditional.Load() {
		if r.Header.Get("If-None-Match") == etag {
			f.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Mon, 02 Mar 2026 10:00:00 GMT")
	}
	buf := f.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	f.WriteFeed(buf, i)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
	f.bufs.Put(buf)
}

// Body returns the document of feed i.
func (f *Farm) Body(i int) []byte {
	var b bytes.Buffer
	f.WriteFeed(&b, i)
	return b.Bytes()
}

// words is the vocabulary of the generated text.
var words = strings.Fields(`government minister report election council city police court market
company shares price energy climate storm flood health hospital school university research study
scientists data network security attack officials president parliament vote budget tax workers
union strike transport rail airport flight weather season team match league coach player record
festival music film museum art exhibition book author award prize water river bridge road village
region province border talks agreement trade export import bank inflation growth jobs housing
rent farmers harvest fishing coast island mountain forest fire rescue volunteers community`)

// paragraphs are prebuilt item bodies: generating 100,000 items' worth of
// HTML on every request would measure the farm, not the fetcher.
var paragraphs = func() []string {
	out := make([]string, 97)
	for i := range out {
		var b strings.Builder
		s := uint32(i*2654435761 + 1)
		for p := range 3 {
			b.WriteString("<p>")
			for w := range 33 {
				s = s*1664525 + 1013904223
				word := words[s>>8%uint32(len(words))]
				if w == 0 {
					word = strings.ToUpper(word[:1]) + word[1:]
				}
				b.WriteString(word)
				switch {
				case w == 32:
					b.WriteString(".")
				case s%11 == 0:
					b.WriteString(", ")
				default:
					b.WriteString(" ")
				}
			}
			if p == 1 {
				b.WriteString(` <a href="https://example.org/background">More &amp; background</a>`)
			}
			b.WriteString("</p>")
		}
		out[i] = b.String()
	}
	return out
}()

// WriteFeed writes feed i, an RSS 2.0 document of about 1.2 KB per item,
// to b. Every item has its own link and GUID, so the farm holds
// Feeds*Items distinct articles.
func (f *Farm) WriteFeed(b *bytes.Buffer, i int) {
	host := fmt.Sprintf("h%03d.farm.test", i%f.Hosts)
	fmt.Fprintf(b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Farm Gazette %d</title>
<link>https://%s/</link>
<description>News from the farm, edition %d</description>
<language>en-gb</language>
<ttl>30</ttl>
<atom:link href="https://%s/feeds/%d.xml" rel="self" type="application/rss+xml"/>
`, i, host, i, host, i)
	for j := range f.Items {
		s := uint32(i*7919 + j*104729 + 17)
		b.WriteString("<item>\n<title>")
		for w := range 9 {
			s = s*1664525 + 1013904223
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[s>>8%uint32(len(words))])
		}
		fmt.Fprintf(b, " (%d/%d)</title>\n<link>https://%s/news/%d/%d?utm_source=rss&amp;utm_medium=feed</link>\n", i, j, host, i, j)
		fmt.Fprintf(b, "<guid isPermaLink=\"true\">https://%s/news/%d/%d</guid>\n", host, i, j)
		fmt.Fprintf(b, "<pubDate>Mon, %02d Mar 2026 %02d:%02d:00 GMT</pubDate>\n", 1+j%28, j%24, (i+j)%60)
		fmt.Fprintf(b, "<dc:creator>Reporter %d</dc:creator>\n<category>%s</category><category>%s</category>\n",
			j%13, words[j%len(words)], words[(i+j)%len(words)])
		b.WriteString("<description><![CDATA[")
		b.WriteString(paragraphs[(i*31+j)%len(paragraphs)])
		b.WriteString("]]></description>\n</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
}
