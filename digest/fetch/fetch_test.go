package fetch_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/fetch"
)

// rssDoc builds an RSS 2.0 document around items (raw XML).
func rssDoc(title string, items ...string) string {
	return `<?xml version="1.0"?>
<rss version="2.0"><channel><title>` + title + `</title><link>https://news.example/</link>
` + strings.Join(items, "\n") + `
</channel></rss>`
}

func rssItem(guid, link, title string) string {
	return fmt.Sprintf(`<item><guid>%s</guid><link>%s</link><title>%s</title><description>About %s.</description><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate></item>`, guid, link, title, title)
}

// testClient returns a client for httptest servers (which listen on
// 127.0.0.1, so private addresses are allowed) with short time-outs.
func testClient(tb testing.TB, opts fetch.Options) *fetch.Client {
	tb.Helper()
	opts.AllowPrivate = true
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	c := fetch.New(opts)
	tb.Cleanup(c.Close)
	return c
}

func serve(tb testing.TB, h http.HandlerFunc) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

func fetchErr(tb testing.TB, err error) *fetch.Error {
	tb.Helper()
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		tb.Fatalf("error %v (%T) is not a *fetch.Error", err, err)
	}
	return fe
}

func TestFetchOK(t *testing.T) {
	var gotUA, gotAE, gotAccept string
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotAE, gotAccept = r.UserAgent(), r.Header.Get("Accept-Encoding"), r.Header.Get("Accept")
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Header().Set("Cache-Control", "public, max-age=1800")
		io.WriteString(w, rssDoc("Example News", rssItem("https://news.example/a", "https://news.example/a", "A"), rssItem("https://news.example/b", "https://news.example/b", "B")))
	})
	c := testClient(t, fetch.Options{UserAgent: "HeraldTest/1.0 (+https://example.org)"})
	res, err := c.Fetch(context.Background(), fetch.Request{URL: srv.URL + "/feed.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if gotUA != "HeraldTest/1.0 (+https://example.org)" {
		t.Errorf("User-Agent = %q", gotUA)
	}
	if gotAE != "gzip, deflate" {
		t.Errorf("Accept-Encoding = %q", gotAE)
	}
	if !strings.Contains(gotAccept, "application/rss+xml") {
		t.Errorf("Accept = %q", gotAccept)
	}
	if res.StatusCode != 200 || res.NotModified || res.Unchanged || res.Feed == nil {
		t.Fatalf("result = %+v", res)
	}
	if res.ETag != `"v1"` || res.LastModified != "Mon, 02 Jan 2006 15:04:05 GMT" || len(res.BodyHash) != 64 {
		t.Errorf("validators = %q %q %q", res.ETag, res.LastModified, res.BodyHash)
	}
	if res.Hints.MaxAge != 30*time.Minute {
		t.Errorf("MaxAge = %s, want 30m", res.Hints.MaxAge)
	}
	if res.Feed.Title != "Example News" || len(res.Feed.Articles) != 2 {
		t.Fatalf("feed = %+v", res.Feed)
	}
	if a := res.Feed.Articles[0]; a.Title != "A" || a.URL != "https://news.example/a" || a.Key != "url:https://news.example/a" || a.Source != "Example News" {
		t.Errorf("article = %+v", a)
	}
}

func TestFetchConditional(t *testing.T) {
	body := rssDoc("Cond", rssItem("1", "https://news.example/1", "One"))
	var requests atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` || r.Header.Get("If-Modified-Since") == "Mon, 02 Jan 2006 15:04:05 GMT" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, body)
	})
	// A server that ignores validators and sends the same body again.
	ignoring := serve(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	c := testClient(t, fetch.Options{})
	ctx := context.Background()

	first, err := c.Fetch(ctx, fetch.Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("304 by ETag", func(t *testing.T) {
		res, err := c.Fetch(ctx, fetch.Request{URL: srv.URL, ETag: first.ETag, BodyHash: first.BodyHash})
		if err != nil {
			t.Fatal(err)
		}
		if !res.NotModified || res.Feed != nil || res.StatusCode != 304 {
			t.Fatalf("result = %+v, want not modified", res)
		}
		if res.ETag != `"v1"` || res.BodyHash != first.BodyHash {
			t.Errorf("304 must keep the validators: %q %q", res.ETag, res.BodyHash)
		}
	})
	t.Run("304 by Last-Modified", func(t *testing.T) {
		res, err := c.Fetch(ctx, fetch.Request{URL: srv.URL, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT"})
		if err != nil || !res.NotModified {
			t.Fatalf("result = %+v, %v", res, err)
		}
	})
	t.Run("unchanged body is not parsed", func(t *testing.T) {
		res, err := c.Fetch(ctx, fetch.Request{URL: ignoring.URL, ETag: `"v1"`, BodyHash: first.BodyHash})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Unchanged || res.Feed != nil || res.BodyHash != first.BodyHash {
			t.Fatalf("result = %+v, want unchanged", res)
		}
	})
	t.Run("changed body is parsed", func(t *testing.T) {
		res, err := c.Fetch(ctx, fetch.Request{URL: ignoring.URL, BodyHash: "0000"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Unchanged || res.Feed == nil || len(res.Feed.Articles) != 1 {
			t.Fatalf("result = %+v, want a parsed feed", res)
		}
	})
}

func TestFetchStatusErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		kind       fetch.Kind
		code       string
		retryAfter time.Duration
		inMessage  string
	}{
		{"404", 404, nil, fetch.KindNotFound, digest.ENOTFOUND, 0, "HTTP 404 Not Found"},
		{"410", 410, nil, fetch.KindGone, digest.ENOTFOUND, 0, "removed this feed"},
		{"429 seconds", 429, map[string]string{"Retry-After": "120"}, fetch.KindRateLimited, digest.ERATELIMITED, 2 * time.Minute, "retry after 2m0s"},
		{"429 date", 429, map[string]string{"Date": "Mon, 02 Jan 2006 15:04:05 GMT", "Retry-After": "Mon, 02 Jan 2006 16:04:05 GMT"}, fetch.KindRateLimited, digest.ERATELIMITED, time.Hour, "retry after 1h0m0s"},
		{"500", 500, nil, fetch.KindServer, digest.EUNAVAILABLE, 0, "HTTP 500 Internal Server Error"},
		{"503 retry", 503, map[string]string{"Retry-After": "30"}, fetch.KindServer, digest.EUNAVAILABLE, 30 * time.Second, "HTTP 503"},
		{"403", 403, nil, fetch.KindHTTP, digest.EINVALID, 0, "HTTP 403 Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, "<html>error page</html>")
			})
			_, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: srv.URL + "/f"})
			fe := fetchErr(t, err)
			if fe.Kind != tt.kind || fe.StatusCode != tt.status || fe.RetryAfter != tt.retryAfter {
				t.Errorf("got kind %s status %d retry %s; want %s %d %s", fe.Kind, fe.StatusCode, fe.RetryAfter, tt.kind, tt.status, tt.retryAfter)
			}
			if !strings.Contains(err.Error(), tt.inMessage) || !strings.Contains(err.Error(), srv.URL+"/f") {
				t.Errorf("message %q should name the URL and contain %q", err, tt.inMessage)
			}
			if got := digest.ErrorCode(err); got != tt.code {
				t.Errorf("digest.ErrorCode = %q, want %q", got, tt.code)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	feed := rssDoc("Moved", rssItem("1", "https://news.example/1", "One"))
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			var n int
			fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
			if n == 0 {
				io.WriteString(w, feed)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusMovedPermanently)
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://example.com/feed", http.StatusFound)
		case r.URL.Path == "/temp":
			http.Redirect(w, r, "/hop/0", http.StatusFound)
		}
	})
	c := testClient(t, fetch.Options{})
	ctx := context.Background()

	t.Run("loop", func(t *testing.T) {
		_, err := c.Fetch(ctx, fetch.Request{URL: srv.URL + "/loop"})
		if fe := fetchErr(t, err); fe.Kind != fetch.KindRedirects || !strings.Contains(err.Error(), "loop") {
			t.Errorf("got %v (%s)", err, fe.Kind)
		}
	})
	t.Run("five hops are followed", func(t *testing.T) {
		res, err := c.Fetch(ctx, fetch.Request{URL: srv.URL + "/hop/5"})
		if err != nil {
			t.Fatal(err)
		}
		if res.URL != srv.URL+"/hop/0" || res.MovedTo != srv.URL+"/hop/0" {
			t.Errorf("URL %q MovedTo %q", res.URL, res.MovedTo)
		}
	})
	t.Run("six hops are too many", func(t *testing.T) {
		_, err := c.Fetch(ctx, fetch.Request{URL: srv.URL + "/hop/6"})
		if fe := fetchErr(t, err); fe.Kind != fetch.KindRedirects || !strings.Contains(err.Error(), "5 redirects") {
			t.Errorf("got %v (%s)", err, fe.Kind)
		}
	})
	t.Run("non-http scheme", func(t *testing.T) {
		_, err := c.Fetch(ctx, fetch.Request{URL: srv.URL + "/ftp"})
		if fe := fetchErr(t, err); fe.Kind != fetch.KindRedirects || !strings.Contains(err.Error(), "ftp") {
			t.Errorf("got %v (%s)", err, fe.Kind)
		}
	})
	t.Run("temporary redirect is not a move", func(t *testing.T) {
		res, err := c.Fetch(ctx, fetch.Request{URL: srv.URL + "/temp"})
		if err != nil {
			t.Fatal(err)
		}
		if res.MovedTo != "" {
			t.Errorf("MovedTo = %q after a 302", res.MovedTo)
		}
	})
}

func TestFetchSizeLimits(t *testing.T) {
	big := strings.Repeat("x", 200<<10)
	doc := rssDoc("Big", `<item><title>t</title><description>`+big+`</description></item>`)

	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	// 64 MiB of zeros compress to about 64 KiB.
	bomb := func() []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 64 {
			zw.Write(zeros)
		}
		zw.Close()
		return buf.Bytes()
	}()

	tests := []struct {
		name    string
		handler http.HandlerFunc
		message string
	}{
		{"chunked body over the cap", func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 10; i++ {
				io.WriteString(w, doc[:len(doc)/10])
				w.(http.Flusher).Flush()
			}
		}, "response body exceeds the limit of 64 KiB"},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		}, "decompressed body exceeds the limit of 64 KiB"},
		{"gzip bomb without Content-Encoding", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(bomb)
		}, "decompressed body exceeds the limit of 64 KiB"},
		{"large compressed body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz([]byte(doc)))
		}, "decompressed body exceeds the limit of 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, tt.handler)
			c := testClient(t, fetch.Options{MaxBodyBytes: 64 << 10})
			_, err := c.Fetch(context.Background(), fetch.Request{URL: srv.URL})
			fe := fetchErr(t, err)
			if fe.Kind != fetch.KindTooLarge || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("got %v (%s), want too large with %q", err, fe.Kind, tt.message)
			}
		})
	}

	t.Run("declared Content-Length is refused before reading", func(t *testing.T) {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(doc)))
			io.WriteString(w, doc)
		})
		_, err := testClient(t, fetch.Options{MaxBodyBytes: 64 << 10}).Fetch(context.Background(), fetch.Request{URL: srv.URL})
		if fe := fetchErr(t, err); fe.Kind != fetch.KindTooLarge || !strings.Contains(err.Error(), "over the limit") {
			t.Errorf("got %v", err)
		}
	})
}

func TestFetchCompression(t *testing.T) {
	doc := []byte(rssDoc("Squeezed", rssItem("1", "https://news.example/1", "One")))
	var gz, zl, raw bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(doc)
	zw.Close()
	lw := zlib.NewWriter(&zl)
	lw.Write(doc)
	lw.Close()
	fw, _ := flate.NewWriter(&raw, flate.DefaultCompression)
	fw.Write(doc)
	fw.Close()
	corrupt := append([]byte{}, gz.Bytes()[:gz.Len()/2]...)

	tests := []struct {
		name, encoding string
		body           []byte
		wantErr        fetch.Kind
	}{
		{"gzip", "gzip", gz.Bytes(), ""},
		{"x-gzip", "x-gzip", gz.Bytes(), ""},
		{"deflate (zlib)", "deflate", zl.Bytes(), ""},
		{"deflate (raw)", "deflate", raw.Bytes(), ""},
		{"truncated gzip", "gzip", corrupt, fetch.KindParse},
		{"brotli we did not ask for", "br", doc, fetch.KindParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", tt.encoding)
				w.Write(tt.body)
			})
			res, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: srv.URL})
			if tt.wantErr != "" {
				if fe := fetchErr(t, err); fe.Kind != tt.wantErr {
					t.Fatalf("got %v (%s), want kind %s", err, fe.Kind, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Feed.Title != "Squeezed" || res.Bytes != len(doc) {
				t.Errorf("title %q, %d bytes; want %d decompressed", res.Feed.Title, res.Bytes, len(doc))
			}
		})
	}
}

func TestFetchTimeouts(t *testing.T) {
	// A server that sends its headers, then one byte a second for ever:
	// only the whole-request deadline can stop it.
	drip := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(200)
		for i := 0; ; i++ {
			if _, err := w.Write([]byte{"<rss>"[i%5]}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	})
	// A server that never answers.
	silent := serve(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	tests := []struct {
		name    string
		url     string
		opts    fetch.Options
		message string
	}{
		{"one byte a second", drip.URL, fetch.Options{Timeout: 1500 * time.Millisecond}, "within 1.5s"},
		{"no headers", silent.URL, fetch.Options{Timeout: 5 * time.Second, ResponseHeaderTimeout: 300 * time.Millisecond}, "no response headers within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := testClient(t, tt.opts).Fetch(context.Background(), fetch.Request{URL: tt.url})
			elapsed := time.Since(start)
			fe := fetchErr(t, err)
			if fe.Kind != fetch.KindTimeout || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("got %v (%s), want a time-out saying %q", err, fe.Kind, tt.message)
			}
			if limit := tt.opts.Timeout + time.Second; elapsed > limit {
				t.Errorf("took %s, more than %s", elapsed, limit)
			}
		})
	}
	t.Run("caller's context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := testClient(t, fetch.Options{}).Fetch(ctx, fetch.Request{URL: silent.URL})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled in the chain", err)
		}
	})
}

func TestFetchNotAFeed(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		alternates              []string
		message                 string
	}{
		{
			name:        "HTML page advertising feeds",
			contentType: "text/html; charset=utf-8",
			body: `<!DOCTYPE html><html><head><title>Blog</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
<link rel="Alternate" type="application/atom+xml" href="https://cdn.example/atom.xml">
<link rel="alternate" type="application/feed+json" href="feed.json">
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
<link rel="alternate" hreflang="de" href="/de/">
</head><body><p>Hello</p></body></html>`,
			alternates: []string{"{{base}}/feed.xml", "https://cdn.example/atom.xml", "{{base}}/blog/feed.json"},
			message:    "not a feed; it advertises these feeds: {{base}}/feed.xml, https://cdn.example/atom.xml, {{base}}/blog/feed.json",
		},
		{
			name:        "HTML page with one feed and a base",
			contentType: "text/html",
			body:        `<html><head><base href="https://static.example/site/"><link rel="alternate" type="application/rss+xml" href="rss"></head></html>`,
			alternates:  []string{"https://static.example/site/rss"},
			message:     "it advertises a feed at https://static.example/site/rss (use that URL)",
		},
		{
			name:        "HTML page without feeds",
			contentType: "text/html",
			body:        `<html><head><title>x</title></head><body>nothing</body></html>`,
			message:     "this is an HTML page, not a feed (no RSS, Atom or JSON Feed found)",
		},
		{
			name:        "HTML served as XML",
			contentType: "application/xml",
			body:        `<!doctype html><html><head><link rel="alternate" type="application/atom+xml" href="/atom"></head></html>`,
			alternates:  []string{"{{base}}/atom"},
			message:     "advertises a feed at {{base}}/atom",
		},
		{
			name:        "plain text",
			contentType: "text/plain",
			body:        "hello",
			message:     "the response (text/plain) is not an RSS, Atom or JSON feed",
		},
		{
			name:        "empty",
			contentType: "application/rss+xml",
			body:        "  \n",
			message:     "empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, tt.body)
			})
			url := srv.URL + "/blog/"
			_, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: url})
			fe := fetchErr(t, err)
			if fe.Kind != fetch.KindNotFeed {
				t.Fatalf("kind = %s (%v), want not a feed", fe.Kind, err)
			}
			want := strings.ReplaceAll(tt.message, "{{base}}", srv.URL)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q\nwant it to contain %q", err, want)
			}
			var alts []string
			for _, a := range tt.alternates {
				alts = append(alts, strings.ReplaceAll(a, "{{base}}", srv.URL))
			}
			if fmt.Sprint(fe.Alternates) != fmt.Sprint(alts) {
				t.Errorf("Alternates = %q, want %q", fe.Alternates, alts)
			}
		})
	}
}

func TestFetchMalformed(t *testing.T) {
	tests := []struct{ name, body string }{
		{"unclosed elements", `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</item></channel>`},
		{"truncated", `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</title>`},
		{"broken JSON Feed", `{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": [`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) })
			_, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: srv.URL})
			fe := fetchErr(t, err)
			if fe.Kind != fetch.KindParse || !strings.Contains(err.Error(), "malformed feed") {
				t.Errorf("got %v (%s), want a parse error", err, fe.Kind)
			}
		})
	}
}

func TestFetchInvalidURL(t *testing.T) {
	c := testClient(t, fetch.Options{})
	for _, u := range []string{"", "feed.xml", "ftp://example.com/feed", "javascript:alert(1)", "http://"} {
		t.Run(u, func(t *testing.T) {
			_, err := c.Fetch(context.Background(), fetch.Request{URL: u})
			if fe := fetchErr(t, err); fe.Kind != fetch.KindInvalidURL {
				t.Errorf("got %v (%s), want invalid URL", err, fe.Kind)
			}
		})
	}
}

func TestFetchNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	_, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: addr})
	fe := fetchErr(t, err)
	if fe.Kind != fetch.KindNetwork || !strings.Contains(err.Error(), "connection refused") || !fe.Temporary() {
		t.Errorf("got %v (%s)", err, fe.Kind)
	}
	if digest.ErrorCode(err) != digest.EUNAVAILABLE {
		t.Errorf("code = %s", digest.ErrorCode(err))
	}
}

func TestFetchCharsetFromHTTP(t *testing.T) {
	tests := []struct {
		name, contentType string
		body              []byte
		title, item       string
	}{
		{
			name:        "ISO-8859-1",
			contentType: "application/rss+xml; charset=ISO-8859-1",
			body:        []byte("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Caf\xe9 M\xfcller</title><item><title>Cr\xe8me br\xfbl\xe9e</title><link>https://x.example/1</link></item></channel></rss>"),
			title:       "Café Müller",
			item:        "Crème brûlée",
		},
		{
			name:        "windows-1251",
			contentType: "text/xml; charset=windows-1251",
			// "Новости" and "Привет, мир" in windows-1251.
			body:  []byte("<rss version=\"2.0\"><channel><title>\xcd\xee\xe2\xee\xf1\xf2\xe8</title><item><title>\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0</title><link>https://x.example/1</link></item></channel></rss>"),
			title: "Новости",
			item:  "Привет, мир",
		},
		{
			name:        "document declaration wins over HTTP",
			contentType: "text/xml; charset=windows-1251",
			body:        []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title><item><title>na\xefve</title><link>https://x.example/1</link></item></channel></rss>"),
			title:       "Café",
			item:        "naïve",
		},
		{
			name:        "UTF-8 body under a wrong Latin-1 label",
			contentType: "application/rss+xml; charset=iso-8859-1",
			body:        []byte("<rss version=\"2.0\"><channel><title>Café</title><item><title>Über</title><link>https://x.example/1</link></item></channel></rss>"),
			title:       "Café",
			item:        "Über",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write(tt.body)
			})
			res, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if res.Feed.Title != tt.title || len(res.Feed.Articles) != 1 || res.Feed.Articles[0].Title != tt.item {
				t.Errorf("title %q, articles %+v; want %q and %q", res.Feed.Title, res.Feed.Articles, tt.title, tt.item)
			}
		})
	}
}

func TestFetchBodyBuffersAreNotShared(t *testing.T) {
	// Results must not alias the pooled read buffer: fetch twice with
	// different bodies and check the first result is intact.
	var n atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		io.WriteString(w, rssDoc(fmt.Sprintf("Feed %d", i), rssItem(fmt.Sprint(i), fmt.Sprintf("https://x.example/%d", i), fmt.Sprintf("Item %d", i))))
	})
	c := testClient(t, fetch.Options{})
	first, err := c.Fetch(context.Background(), fetch.Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(context.Background(), fetch.Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if first.Feed.Title != "Feed 1" || first.Feed.Articles[0].Title != "Item 1" || first.Feed.Articles[0].GUID != "1" {
		t.Errorf("first result changed: %q %+v", first.Feed.Title, first.Feed.Articles[0])
	}
}

func TestFetchSendsURLCredentials(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "reader" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, rssDoc("Private", rssItem("1", "https://x.example/1", "One")))
	})
	u := strings.Replace(srv.URL, "http://", "http://reader:s3cret@", 1)
	res, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: u})
	if err != nil || res.Feed.Title != "Private" {
		t.Fatalf("got %v, %v", res, err)
	}
	// The credentials do not leak into article identities or errors.
	if k := res.Feed.Articles[0].Key; strings.Contains(k, "s3cret") {
		t.Errorf("key %q carries the password", k)
	}
	_, err = testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: strings.Replace(u, "s3cret", "wrong", 1)})
	if err == nil || strings.Contains(err.Error(), "wrong") || !strings.Contains(err.Error(), "401") {
		t.Errorf("error %v should report the 401 without the password", err)
	}
}

// TestFetchNormalises checks normalisation end to end, through HTTP: links
// relative to the feed's own URL (it names no site), duplicate GUIDs, and
// missing and future dates against the client's clock.
func TestFetchNormalises(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<rss version="2.0"><channel><title>Relative</title>
<item><guid isPermaLink="false">a-1</guid><link>posts/1?utm_source=feed#top</link><title>One</title><pubDate>Sat, 01 Jan 2050 00:00:00 GMT</pubDate></item>
<item><guid isPermaLink="false">a-1</guid><link>posts/1</link><title>One, repeated</title></item>
<item><guid isPermaLink="false">a-2</guid><link>/root/2</link><title>Two</title></item>
<item><link>../up/3</link><title>Three</title><pubDate>Fri, 27 Feb 2026 08:00:00 GMT</pubDate></item>
</channel></rss>`)
	})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	res, err := testClient(t, fetch.Options{Now: func() time.Time { return now }}).Fetch(context.Background(), fetch.Request{URL: srv.URL + "/blog/feeds/main.xml"})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Feed
	if f.Duplicates != 1 || len(f.Articles) != 3 {
		t.Fatalf("%d articles, %d duplicates", len(f.Articles), f.Duplicates)
	}
	want := []struct {
		url, title string
		published  time.Time
	}{
		{srv.URL + "/blog/feeds/posts/1", "One", now},                                   // future date clamped
		{srv.URL + "/root/2", "Two", now},                                               // missing date: first seen
		{srv.URL + "/blog/up/3", "Three", time.Date(2026, 2, 27, 8, 0, 0, 0, time.UTC)}, // kept
	}
	for i, w := range want {
		a := f.Articles[i]
		if a.URL != w.url || a.Title != w.title || !a.Published.Equal(w.published) || !a.FirstSeen.Equal(now) {
			t.Errorf("article %d = %s %q published %s first seen %s; want %s %q %s", i, a.URL, a.Title, a.Published, a.FirstSeen, w.url, w.title, w.published)
		}
	}
	if f.Articles[0].Key != "guid:"+srv.URL+"/blog/feeds/main.xml#a-1" {
		t.Errorf("key %q", f.Articles[0].Key)
	}
}

func TestFetchValidatorsFollowTheServer(t *testing.T) {
	// A server that stops sending validators: a 200 without ETag must not
	// keep the old one, or the next request would send a stale
	// If-None-Match.
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, rssDoc("V", rssItem("1", "https://x.example/1", "One")))
	})
	res, err := testClient(t, fetch.Options{}).Fetch(context.Background(), fetch.Request{URL: srv.URL, ETag: `"old"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT", BodyHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ETag != "" || res.LastModified != "" {
		t.Errorf("validators %q %q carried over from the request", res.ETag, res.LastModified)
	}
}
