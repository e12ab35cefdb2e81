package fetchtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestFarm(t *testing.T) {
	f := NewFarm(20, 50, 4)
	t.Cleanup(f.Close)
	body := f.Body(7)
	if n := len(body); n < 55<<10 || n > 70<<10 {
		t.Errorf("feed is %d bytes, want about 60 KB", n)
	}
	if n := bytes.Count(body, []byte("<item>")); n != 50 {
		t.Errorf("%d items", n)
	}
	if bytes.Equal(f.Body(7), f.Body(8)) || !bytes.Equal(f.Body(7), body) {
		t.Error("feeds must differ from each other and be stable")
	}
	if !strings.Contains(f.URL(7), "h003.farm.test") {
		t.Errorf("URL(7) = %s", f.URL(7))
	}
	addrs, err := f.Resolver().LookupNetIP(context.Background(), "ip", "h003.farm.test")
	if err != nil || len(addrs) != 1 || !addrs[0].IsLoopback() {
		t.Errorf("resolver: %v %v", addrs, err)
	}

	// Served with conditional GET, then without.
	get := func(etag string) *http.Response {
		req, _ := http.NewRequest("GET", f.server.URL+"/feeds/7.xml", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	first := get("")
	if first.StatusCode != 200 || first.Header.Get("ETag") == "" {
		t.Fatalf("first GET: %d, ETag %q", first.StatusCode, first.Header.Get("ETag"))
	}
	if r := get(first.Header.Get("ETag")); r.StatusCode != 304 {
		t.Errorf("conditional GET: %d", r.StatusCode)
	}
	f.SetConditional(false)
	if r := get(first.Header.Get("ETag")); r.StatusCode != 200 {
		t.Errorf("with conditional GET off: %d", r.StatusCode)
	}
	if total, nm := f.Requests(); total != 3 || nm != 1 {
		t.Errorf("requests %d, not modified %d", total, nm)
	}
}

// BenchmarkWriteFeed shows what serving one 60 KB feed costs the farm,
// which shares the CPU with what it benchmarks.
func BenchmarkWriteFeed(b *testing.B) {
	f := NewFarm(2000, 50, 250)
	b.Cleanup(f.Close)
	var buf bytes.Buffer
	i := 0
	for b.Loop() {
		buf.Reset()
		f.WriteFeed(&buf, i%2000)
		i++
	}
	b.SetBytes(int64(buf.Len()))
}
