// Package fetchtest provides a feed farm for tests and benchmarks of feed
// fetching: one in-process HTTP server that serves many realistic RSS feeds
// under many host names, generated on the fly so that a farm of thousands
// of 60 KB feeds costs no memory.
//
// Meter measures benchmark phases: feeds/s, feeds per CPU-second and peak
// RSS. The package imports no parser: benchmarks compare against gofeed
// themselves.
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

// titles are prebuilt headline stems, for the same reason.
var titles = func() []string {
	out := make([]string, 1021)
	for i := range out {
		var b strings.Builder
		s := uint32(i*7919 + 17)
		for w := range 9 {
			s = s*1664525 + 1013904223
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[s>>8%uint32(len(words))])
		}
		out[i] = b.String()
	}
	return out
}()

// WriteFeed writes feed i, an RSS 2.0 document of about 1.2 KB per item,
// to b. Every item has its own link and GUID, so the farm holds
// Feeds*Items distinct articles. It only appends prebuilt pieces and
// numbers: the farm runs in the benchmark's process and should cost it as
// little as a remote server would.
func (f *Farm) WriteFeed(b *bytes.Buffer, i int) {
	var num [20]byte
	itoa := func(n int) { b.Write(strconv.AppendInt(num[:0], int64(n), 10)) }
	two := func(n int) {
		if n < 10 {
			b.WriteByte('0')
		}
		itoa(n)
	}
	host := "h" + fmt.Sprintf("%03d", i%f.Hosts) + ".farm.test"
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Farm Gazette `)
	itoa(i)
	b.WriteString("</title>\n<link>https://" + host + "/</link>\n<description>News from the farm, edition ")
	itoa(i)
	b.WriteString("</description>\n<language>en-gb</language>\n<ttl>30</ttl>\n<atom:link href=\"https://" + host + "/feeds/")
	itoa(i)
	b.WriteString(".xml\" rel=\"self\" type=\"application/rss+xml\"/>\n")
	for j := range f.Items {
		b.WriteString("<item>\n<title>")
		b.WriteString(titles[(i*f.Items+j)%len(titles)])
		b.WriteString(" (")
		itoa(i)
		b.WriteByte('/')
		itoa(j)
		b.WriteString(")</title>\n<link>https://" + host + "/news/")
		itoa(i)
		b.WriteByte('/')
		itoa(j)
		b.WriteString("?utm_source=rss&amp;utm_medium=feed</link>\n<guid isPermaLink=\"true\">https://" + host + "/news/")
		itoa(i)
		b.WriteByte('/')
		itoa(j)
		b.WriteString("</guid>\n<pubDate>Mon, ")
		two(1 + j%28)
		b.WriteString(" Mar 2026 ")
		two(j % 24)
		b.WriteByte(':')
		two((i + j) % 60)
		b.WriteString(":00 GMT</pubDate>\n<dc:creator>Reporter ")
		itoa(j % 13)
		b.WriteString("</dc:creator>\n<category>" + words[j%len(words)] + "</category><category>" + words[(i+j)%len(words)] + "</category>\n")
		b.WriteString("<description><![CDATA[")
		b.WriteString(paragraphs[(i*31+j)%len(paragraphs)])
		b.WriteString("]]></description>\n</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
}
