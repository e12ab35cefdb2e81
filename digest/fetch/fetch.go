// Package fetch owns feed ingestion up to the article: the hardened HTTP
// client (SSRF guard at dial time, time-outs on every phase, redirect and
// size caps, gzip and deflate with caps after decompression, conditional
// GET), character set handling, parsing with gofeed, and normalisation of
// items into digest.Article values with canonical URLs, clean text and
// identity keys.
//
// gofeed is imported here and nowhere else; its types do not leave this
// package. Polling (which feeds, when, how many at once) lives in
// digest/poll; storage behind the digest store interfaces.
package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure a Client. Zero fields take the defaults shown.
type Options struct {
	UserAgent string // default DefaultUserAgent; say who you are and where to complain

	Timeout               time.Duration // whole request, body included: 30s
	DialTimeout           time.Duration // TCP connect: 10s
	TLSHandshakeTimeout   time.Duration // 10s
	ResponseHeaderTimeout time.Duration // from request sent to headers received: 20s

	MaxBodyBytes int64 // decompressed body: 10 MiB
	MaxWireBytes int64 // body as received (compressed): MaxBodyBytes
	MaxRedirects int   // 5; negative means none

	// AllowPrivate lets the client connect to loopback, private,
	// link-local and other non-public addresses (HERALD_FETCH_ALLOW_PRIVATE,
	// for local feeds and tests). Off, such addresses are refused after DNS
	// resolution, on every redirect hop.
	AllowPrivate bool

	// Resolver resolves host names; nil uses the system resolver.
	Resolver Resolver

	// MaxParallelParse caps the documents parsed at once (GOMAXPROCS).
	// Fetches wait on the network, parses on the CPU: more parses in
	// flight than cores only hold more parse trees in memory and give the
	// garbage collector more to scan.
	MaxParallelParse int

	// MaxIdleConns caps idle keep-alive connections (256), and
	// MaxIdleConnsPerHost per host (4).
	MaxIdleConns        int
	MaxIdleConnsPerHost int

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "Herald/1.0 (+https://github.com/seed-c50b6fda/herald; news digest bot)"

func (o *Options) setDefaults() {
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 30*time.Second)
	def(&o.DialTimeout, min(10*time.Second, o.Timeout))
	def(&o.TLSHandshakeTimeout, min(10*time.Second, o.Timeout))
	def(&o.ResponseHeaderTimeout, min(20*time.Second, o.Timeout))
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.MaxWireBytes <= 0 {
		o.MaxWireBytes = o.MaxBodyBytes
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 5
	} else if o.MaxRedirects < 0 {
		o.MaxRedirects = 0
	}
	if o.MaxParallelParse <= 0 {
		o.MaxParallelParse = runtime.GOMAXPROCS(0)
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 256
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Client fetches and parses feeds. It is safe for concurrent use; share one.
type Client struct {
	opts      Options
	http      *http.Client
	transport *http.Transport
	bufs      sync.Pool
	parsing   chan struct{} // a slot per parse in flight
}

// New returns a Client with its own transport.
func New(opts Options) *Client {
	opts.setDefaults()
	d := newDialer(&opts)
	t := &http.Transport{
		// Environment proxies are ignored on purpose: the guard checks the
		// address actually dialled, which would be the proxy's.
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   opts.TLSHandshakeTimeout,
		ResponseHeaderTimeout: opts.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// We ask for gzip and deflate ourselves and decompress under a cap;
		// the transport's transparent gzip would hide the compressed size.
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           opts.MaxIdleConns,
		MaxIdleConnsPerHost:    opts.MaxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c := &Client{opts: opts, transport: t, parsing: make(chan struct{}, opts.MaxParallelParse)}
	c.http = &http.Client{
		Transport:     t,
		CheckRedirect: c.checkRedirect,
	}
	c.bufs.New = func() any { return new(bytes.Buffer) }
	return c
}

// Close releases idle connections.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

// redirectError marks a refused redirect; checkRedirect's errors reach the
// caller wrapped in a *url.Error.
type redirectError struct{ detail string }

func (e *redirectError) Error() string { return e.detail }

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.opts.MaxRedirects {
		return &redirectError{fmt.Sprintf("stopped after %d redirects (last to %s)", c.opts.MaxRedirects, req.URL.Redacted())}
	}
	for _, v := range via {
		if v.URL.String() == req.URL.String() {
			return &redirectError{fmt.Sprintf("redirect loop: %s redirects back to itself", req.URL.Redacted())}
		}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &redirectError{fmt.Sprintf("redirect to a %s: URL refused; only http and https are fetched", req.URL.Scheme)}
	}
	return nil
}

// Request is one conditional fetch of a feed.
type Request struct {
	URL          string // the feed's address
	ETag         string // from the last response, for If-None-Match
	LastModified string // from the last response, for If-Modified-Since
	BodyHash     string // from the last Result; an identical body is not parsed again
}

// Result is the outcome of a successful fetch: the feed changed (Feed is
// set), or it did not (NotModified or Unchanged).
type Result struct {
	URL        string // final URL, after redirects
	MovedTo    string // set when every redirect was permanent (301, 308): the feed's new address
	StatusCode int

	NotModified bool // 304: the server says nothing changed
	Unchanged   bool // 2xx, but the body is the same as last time (BodyHash): not parsed

	// Validators for the next Request. On 304 they carry the previous
	// values unless the server sent new ones.
	ETag         string
	LastModified string
	BodyHash     string // hex SHA-256 of the decompressed body

	Feed      *Feed // the parsed feed; nil when NotModified or Unchanged
	Hints     Hints
	FetchedAt time.Time
	Bytes     int // size of the decompressed body
}

// Fetch fetches req.URL with a conditional GET and parses the feed when it
// changed. Every failure is an *Error whose Kind says what happened.
func (c *Client) Fetch(ctx context.Context, req Request) (*Result, error) {
	u, err := parseURL(req.URL, "")
	if err != nil {
		return nil, &Error{Kind: KindInvalidURL, URL: req.URL, Err: err, Detail: "not a valid feed URL: " + err.Error()}
	}
	// parseURL drops user info, which identity keys must not carry; a
	// private feed's credentials are still sent.
	if orig, err := url.Parse(strings.TrimSpace(req.URL)); err == nil && orig.User != nil {
		u.User = orig.User
	}
	// The whole request, body included, must finish in time: per-phase
	// time-outs cannot stop a server that drips one byte a second.
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Kind: KindInvalidURL, URL: req.URL, Err: err, Detail: "not a valid feed URL: " + err.Error()}
	}
	h := hreq.Header
	h.Set("User-Agent", c.opts.UserAgent)
	h.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
	h.Set("Accept-Encoding", "gzip, deflate")
	if req.ETag != "" {
		h.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		h.Set("If-Modified-Since", req.LastModified)
	}

	start := c.opts.Now()
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.transportError(req.URL, err)
	}
	defer resp.Body.Close()

	res := &Result{
		URL:          resp.Request.URL.String(),
		MovedTo:      movedTo(resp),
		StatusCode:   resp.StatusCode,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Hints:        httpHints(resp.Header, start),
		FetchedAt:    start,
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		// A 304 may omit the validators; the old ones still hold.
		drain(resp.Body)
		res.NotModified = true
		res.ETag = firstNonEmpty(res.ETag, req.ETag)
		res.LastModified = firstNonEmpty(res.LastModified, req.LastModified)
		res.BodyHash = req.BodyHash
		return res, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		drain(resp.Body)
		return nil, statusError(req.URL, resp, res.Hints.RetryAfter)
	}

	buf := c.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			c.bufs.Put(buf)
		}
	}()
	if resp.ContentLength > c.opts.MaxWireBytes {
		return nil, &Error{Kind: KindTooLarge, URL: req.URL, StatusCode: resp.StatusCode,
			Detail: fmt.Sprintf("the response is %s, over the limit of %s", byteSize(resp.ContentLength), byteSize(c.opts.MaxWireBytes))}
	}
	if err := readBody(resp.Body, resp.Header.Get("Content-Encoding"), c.opts.MaxWireBytes, c.opts.MaxBodyBytes, buf); err != nil {
		return nil, c.bodyError(req.URL, resp.StatusCode, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	res.BodyHash = hex.EncodeToString(sum[:])
	res.Bytes = buf.Len()
	if req.BodyHash != "" && req.BodyHash == res.BodyHash {
		res.Unchanged = true
		return res, nil
	}
	select {
	case c.parsing <- struct{}{}:
	case <-ctx.Done():
		return nil, c.transportError(req.URL, ctx.Err())
	}
	feed, err := Parse(Document{
		URL:         res.URL,
		FeedURL:     req.URL,
		ContentType: resp.Header.Get("Content-Type"),
		Body:        buf.Bytes(),
		FetchedAt:   start,
	})
	<-c.parsing
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			fe.URL = req.URL
			fe.StatusCode = resp.StatusCode
		}
		return nil, err
	}
	res.Feed = feed
	res.Hints.TTL = feed.TTL
	return res, nil
}

// maxPooledBuf is the largest body buffer kept for reuse; larger ones are
// left to the garbage collector so that one huge feed does not pin its
// memory for ever.
const maxPooledBuf = 1 << 20

// drain reads a little of an unwanted body so that the connection can be
// reused, without reading a large body.
func drain(r io.Reader) {
	_, _ = io.CopyN(io.Discard, r, 64<<10)
}

// movedTo returns the final URL when the response was reached only through
// permanent redirects, else "".
func movedTo(resp *http.Response) string {
	prev := resp.Request.Response
	if prev == nil {
		return ""
	}
	for r := prev; r != nil; r = r.Request.Response {
		if r.StatusCode != http.StatusMovedPermanently && r.StatusCode != http.StatusPermanentRedirect {
			return ""
		}
	}
	return resp.Request.URL.String()
}

// statusError turns an unexpected HTTP status into an *Error.
func statusError(rawURL string, resp *http.Response, retryAfter time.Duration) *Error {
	e := &Error{URL: rawURL, StatusCode: resp.StatusCode, RetryAfter: retryAfter}
	status := fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound:
		e.Kind, e.Detail = KindNotFound, status+": the feed does not exist at this address"
	case code == http.StatusGone:
		e.Kind, e.Detail = KindGone, status+": the publisher removed this feed"
	case code == http.StatusTooManyRequests:
		e.Kind, e.Detail = KindRateLimited, status+": the server asks us to slow down"
	case code >= 500:
		e.Kind, e.Detail = KindServer, status+": the server failed"
	case code >= 300 && code < 400:
		e.Kind, e.Detail = KindRedirects, status+" without a usable Location"
	default:
		e.Kind, e.Detail = KindHTTP, status
	}
	if retryAfter > 0 {
		e.Detail += fmt.Sprintf(" (retry after %s)", retryAfter)
	}
	return e
}

// transportError classifies a failure of http.Client.Do.
func (c *Client) transportError(rawURL string, err error) *Error {
	var refused *RefusedError
	var redirect *redirectError
	var dnsErr *net.DNSError
	var tooLarge *tooLargeError
	switch {
	case errors.As(err, &refused):
		return &Error{Kind: KindRefused, URL: rawURL, Err: err, Detail: refused.Error() + " (set HERALD_FETCH_ALLOW_PRIVATE=1 to allow private addresses)"}
	case errors.As(err, &redirect):
		return &Error{Kind: KindRedirects, URL: rawURL, Err: err, Detail: redirect.detail}
	case errors.As(err, &tooLarge):
		return &Error{Kind: KindTooLarge, URL: rawURL, Err: err, Detail: tooLarge.Error()}
	case isTimeout(err):
		return &Error{Kind: KindTimeout, URL: rawURL, Err: err, Detail: "timed out: " + timeoutPhase(err, c.opts)}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindNetwork, URL: rawURL, Err: err, Detail: "canceled"}
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return &Error{Kind: KindNetwork, URL: rawURL, Err: err, Detail: fmt.Sprintf("no such host %s", dnsErr.Name)}
		}
		return &Error{Kind: KindNetwork, URL: rawURL, Err: err, Detail: fmt.Sprintf("cannot resolve %s: %s", dnsErr.Name, dnsErr.Err)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Kind: KindNetwork, URL: rawURL, Err: err, Detail: "connection refused"}
	case errors.Is(err, syscall.ECONNRESET):
		return &Error{Kind: KindNetwork, URL: rawURL, Err: err, Detail: "connection reset by the server"}
	default:
		return &Error{Kind: KindNetwork, URL: rawURL, Err: err, Detail: unwrapURLError(err).Error()}
	}
}

// bodyError classifies a failure while reading the body.
func (c *Client) bodyError(rawURL string, status int, err error) *Error {
	var tooLarge *tooLargeError
	var corrupt *corruptError
	switch {
	case errors.As(err, &tooLarge):
		return &Error{Kind: KindTooLarge, URL: rawURL, StatusCode: status, Err: err, Detail: "the " + tooLarge.Error()}
	case errors.As(err, &corrupt):
		return &Error{Kind: KindParse, URL: rawURL, StatusCode: status, Err: err, Detail: corrupt.Error()}
	case isTimeout(err):
		return &Error{Kind: KindTimeout, URL: rawURL, StatusCode: status, Err: err,
			Detail: fmt.Sprintf("timed out: the body did not arrive within %s", c.opts.Timeout)}
	default:
		e := c.transportError(rawURL, err)
		e.StatusCode = status
		if e.Kind == KindNetwork {
			e.Detail = "reading the body: " + e.Detail
		}
		return e
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// timeoutPhase says which time-out fired, as far as the error tells.
func timeoutPhase(err error, o Options) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "awaiting response headers"):
		return fmt.Sprintf("no response headers within %s", o.ResponseHeaderTimeout)
	case strings.Contains(msg, "TLS handshake"):
		return fmt.Sprintf("TLS handshake took over %s", o.TLSHandshakeTimeout)
	case strings.Contains(msg, "dial") || strings.Contains(msg, "i/o timeout"):
		return fmt.Sprintf("could not connect within %s", o.DialTimeout)
	default:
		return fmt.Sprintf("no complete response within %s", o.Timeout)
	}
}

// unwrapURLError drops net/http's "Get \"url\": " prefix, since our message
// names the URL already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
