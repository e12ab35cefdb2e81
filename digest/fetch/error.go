package fetch

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// Kind says what went wrong with a fetch, so that the poller can choose a
// back-off and the CLI or a chat reply can explain it without parsing text.
type Kind string

// Kinds of fetch failure.
const (
	KindInvalidURL  Kind = "invalid_url"  // not an absolute http or https URL
	KindRefused     Kind = "refused"      // the address is private, loopback, metadata... (SSRF guard)
	KindNetwork     Kind = "network"      // DNS, connect, TLS or connection failure
	KindTimeout     Kind = "timeout"      // a phase or the whole request took too long
	KindRedirects   Kind = "redirects"    // too many redirects, a loop, or a redirect to another scheme
	KindNotFound    Kind = "not_found"    // HTTP 404
	KindGone        Kind = "gone"         // HTTP 410: the publisher removed the feed
	KindRateLimited Kind = "rate_limited" // HTTP 429; RetryAfter says for how long, when known
	KindServer      Kind = "server"       // HTTP 5xx
	KindHTTP        Kind = "http"         // any other unexpected HTTP status (401, 403, ...)
	KindTooLarge    Kind = "too_large"    // the body, compressed or not, exceeds its cap
	KindNotFeed     Kind = "not_a_feed"   // HTML or other content that is no RSS, Atom or JSON Feed
	KindParse       Kind = "parse"        // looks like a feed but cannot be parsed
)

// Error is a failed fetch. Its message names the URL and says precisely what
// went wrong; errors.As gives the Kind and the details, and the chain also
// holds a *digest.Error with a matching code for user-facing replies.
type Error struct {
	Kind       Kind
	URL        string        // the URL asked for
	StatusCode int           // HTTP status, when a response arrived
	RetryAfter time.Duration // the server's Retry-After (429, 503), 0 if none
	Alternates []string      // for KindNotFeed: feed URLs the HTML page advertises
	Detail     string        // what happened, without the URL
	Err        error         // the underlying cause, if any
}

// Error implements error. A password in the URL is shown as "xxxxx".
func (e *Error) Error() string {
	return fmt.Sprintf("fetch %s: %s", redactURL(e.URL), e.Detail)
}

// redactURL hides the password of a URL with user info.
func redactURL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// Unwrap returns the cause and a *digest.Error carrying the code that fits
// the kind, so digest.ErrorCode and digest.ErrorMessage work on fetch errors.
func (e *Error) Unwrap() []error {
	errs := []error{&digest.Error{Code: e.Code(), Message: e.Error()}}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Code maps the kind to a digest error code.
func (e *Error) Code() string {
	switch e.Kind {
	case KindNotFound, KindGone:
		return digest.ENOTFOUND
	case KindRateLimited:
		return digest.ERATELIMITED
	case KindRefused:
		return digest.EFORBIDDEN
	case KindNetwork, KindTimeout, KindServer:
		return digest.EUNAVAILABLE
	default:
		return digest.EINVALID
	}
}

// Temporary reports whether retrying soon may help: network trouble, time-outs,
// server errors and rate limits. Not-found, refused or malformed feeds need a
// person (or a long back-off).
func (e *Error) Temporary() bool {
	switch e.Kind {
	case KindNetwork, KindTimeout, KindServer, KindRateLimited:
		return true
	default:
		return false
	}
}

// notFeedDetail phrases a KindNotFeed message, pointing at the advertised
// feeds when there are any.
func notFeedDetail(what string, alternates []string) string {
	switch len(alternates) {
	case 0:
		return what + ", not a feed (no RSS, Atom or JSON Feed found)"
	case 1:
		return what + ", not a feed; it advertises a feed at " + alternates[0] + " (use that URL)"
	default:
		return what + ", not a feed; it advertises these feeds: " + strings.Join(alternates, ", ") + " (use one of them)"
	}
}
