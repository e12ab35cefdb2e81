package fetch

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
	"golang.org/x/net/html"

	"github.com/seed-c50b6fda/herald/digest"
)

// Document is a fetched feed document, ready to parse.
type Document struct {
	URL         string    // where it was fetched from, after redirects: the base for relative links
	FeedURL     string    // the feed's address as Herald stores it, which scopes opaque GUIDs; "" means URL
	ContentType string    // the HTTP Content-Type, for its charset
	Body        []byte    // the (decompressed) body
	FetchedAt   time.Time // first-seen time of the items, and the limit for their dates
}

// Feed is a parsed and normalised feed document. It is Herald's own type:
// nothing of the parser leaks out of this package.
type Feed struct {
	Title       string        // clean text
	Description string        // clean text
	SiteURL     string        // the site the feed belongs to, absolute
	Language    string        // BCP 47, if the feed declares a valid one
	ImageURL    string        // the feed's logo or icon, absolute
	Format      string        // e.g. "rss 2.0", "atom 1.0", "json 1.1"
	TTL         time.Duration // how long the feed asks to be cached (<ttl>, sy:updatePeriod), 0 if it does not say

	// Articles are the feed's items, normalised, with Key set, without
	// duplicates, in document order.
	Articles []*digest.Article

	Items      int // items in the document
	Duplicates int // items dropped because another item of the document has the same identity
	Empty      int // items dropped for having no link, no title and no content
	Overflow   int // items dropped beyond the first MaxItems
}

// MaxItems caps the items taken from one document. Feeds list their newest
// items first and rarely more than a few hundred; a document with a
// hundred thousand items is an archive dump or an attack.
const MaxItems = 1000

// Parse parses an RSS, Atom or JSON Feed document and normalises its items
// into articles (see normalise for the rules). Errors are *Error values of
// kind KindNotFeed (HTML or other content, naming the feeds an HTML page
// advertises) or KindParse.
func Parse(d Document) (*Feed, error) {
	if d.FeedURL == "" {
		d.FeedURL = d.URL
	}
	if len(bytes.TrimSpace(d.Body)) == 0 {
		return nil, &Error{Kind: KindNotFeed, URL: d.URL, Detail: "the response is empty, not a feed"}
	}
	body, err := toUTF8(d.Body, d.ContentType)
	if err != nil {
		return nil, &Error{Kind: KindParse, URL: d.URL, Err: err, Detail: "cannot decode the document: " + err.Error()}
	}
	if depth := xmlDepth(body, maxDepth); depth > maxDepth {
		return nil, &Error{Kind: KindParse, URL: d.URL,
			Detail: fmt.Sprintf("malformed feed: elements nested over %d levels deep", maxDepth)}
	}
	gf, err := parseGofeed(body)
	switch {
	case errors.Is(err, gofeed.ErrFeedTypeNotDetected):
		return nil, notFeedError(d, body)
	case err != nil:
		return nil, &Error{Kind: KindParse, URL: d.URL, Err: err, Detail: "malformed feed: " + err.Error()}
	}
	return convert(d, gf), nil
}

// maxDepth bounds element nesting. Real feeds nest a dozen levels, XHTML
// content a few dozen more; gofeed's extension parsing takes time
// quadratic in the depth, so a hostile 10 MB document of nested elements
// would pin a core for minutes.
const maxDepth = 256

// xmlDepth returns the deepest element nesting of an XML document, or a
// number over limit as soon as it passes limit. It is a fast scan, not a
// parser: it skips comments, CDATA sections, processing instructions,
// declarations and quoted attribute values, and, like gofeed's lenient
// decoder, lets an end tag close every unclosed element inside it. HTML
// void elements (<br>, <img>...) that sloppy feeds leave open do not count.
func xmlDepth(doc []byte, limit int) int {
	type open struct{ from, to int } // the element's name in doc
	var stack []open
	deepest := 0
	for i := 0; i < len(doc); i++ {
		if doc[i] != '<' || i+1 >= len(doc) {
			continue
		}
		rest := doc[i+1:]
		switch {
		case bytes.HasPrefix(rest, []byte("!--")):
			i += skipPast(doc[i:], "-->")
		case bytes.HasPrefix(rest, []byte("![CDATA[")):
			i += skipPast(doc[i:], "]]>")
		case rest[0] == '?':
			i += skipPast(doc[i:], "?>")
		case rest[0] == '!':
			i += skipPast(doc[i:], ">")
		case rest[0] == '/':
			from, to := tagName(doc, i+2)
			for k := len(stack) - 1; k >= 0; k-- {
				if bytes.Equal(doc[stack[k].from:stack[k].to], doc[from:to]) {
					stack = stack[:k]
					break
				}
			}
			i += skipPast(doc[i:], ">")
		default:
			from, to := tagName(doc, i+1)
			end := tagEnd(doc, i)
			if end < 0 {
				return deepest
			}
			if to > from && doc[end-1] != '/' && !voidElements[string(bytes.ToLower(doc[from:to]))] {
				stack = append(stack, open{from, to})
				if len(stack) > deepest {
					if deepest = len(stack); deepest > limit {
						return deepest
					}
				}
			}
			i = end
		}
	}
	return deepest
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

// tagName returns the bounds of the element name starting at doc[i].
func tagName(doc []byte, i int) (from, to int) {
	j := i
	for j < len(doc) && j-i < 256 {
		c := doc[j]
		if c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		j++
	}
	return i, j
}

// skipPast returns the offset just past the first end in b, or len(b).
func skipPast(b []byte, end string) int {
	if j := bytes.Index(b, []byte(end)); j >= 0 {
		return j + len(end) - 1
	}
	return len(b)
}

// tagEnd returns the offset of the ">" closing the tag that starts at
// doc[start], skipping quoted attribute values, or -1.
func tagEnd(doc []byte, start int) int {
	var quote byte
	for j := start + 1; j < len(doc); j++ {
		c := doc[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j
		}
	}
	return -1
}

// parseGofeed runs gofeed on a UTF-8 document. The parser eats untrusted
// bytes; should it ever panic, that becomes a parse error of this one feed,
// not the end of the daemon.
func parseGofeed(body []byte) (f *gofeed.Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("parser panic: %v", r)
		}
	}()
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true // for RSS <ttl>, which the universal feed lacks
	// Herald finds item images itself while extracting the text, instead of
	// a second full HTML parse of every item.
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	return p.Parse(bytes.NewReader(body))
}

// Limits on the clean text kept per article, in runes.
const (
	maxTitle   = 300
	maxSummary = 1000
	maxContent = 50000
	maxAuthor  = 200
)

// convert turns gofeed's feed into Herald's.
func convert(d Document, gf *gofeed.Feed) *Feed {
	f := &Feed{
		Title:       CleanText(gf.Title, maxTitle),
		Description: CleanText(gf.Description, maxSummary),
		Language:    normalizeLanguage(gf.Language),
		Format:      strings.TrimSpace(gf.FeedType + " " + gf.FeedVersion),
		Items:       len(gf.Items),
	}
	if gf.DublinCoreExt != nil && f.Language == "" && len(gf.DublinCoreExt.Language) > 0 {
		f.Language = normalizeLanguage(gf.DublinCoreExt.Language[0])
	}
	if site, err := absoluteURL(gf.Link, d.URL); err == nil {
		f.SiteURL = site
	}
	if gf.Image != nil {
		if img, err := absoluteURL(gf.Image.URL, firstNonEmpty(f.SiteURL, d.URL)); err == nil {
			f.ImageURL = img
		}
	}
	if orig, ok := gf.OriginalFeed().(*rss.Feed); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(orig.TTL)); err == nil && n > 0 {
			f.TTL = min(time.Duration(n)*time.Minute, maxHint)
		}
	}
	if f.TTL == 0 {
		f.TTL = syndicationTTL(extensionValue(gf.Extensions, "sy", "updatePeriod"), extensionValue(gf.Extensions, "sy", "updateFrequency"))
	}
	items := gf.Items
	if len(items) > MaxItems {
		f.Overflow = len(items) - MaxItems
		items = items[:MaxItems]
	}
	n := newNormaliser(d, f)
	f.Articles, f.Duplicates, f.Empty = n.articles(items)
	return f
}

func extensionValue(e ext.Extensions, ns, name string) string {
	if es := e[ns][name]; len(es) > 0 {
		return es[0].Value
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// absoluteURL resolves raw against base and returns it as an absolute http
// or https URL with a normalised host, keeping its path and query as they
// are (for images and site links, which need not be canonical).
func absoluteURL(raw, base string) (string, error) {
	u, err := parseURL(raw, base)
	if err != nil {
		return "", err
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// notFeedError explains what the document is instead of a feed. For an HTML
// page it lists the feeds the page advertises with <link rel="alternate">.
func notFeedError(d Document, body []byte) *Error {
	mediaType, _, _ := mime.ParseMediaType(d.ContentType)
	sniffed := http.DetectContentType(body)
	if mediaType == "text/html" || mediaType == "application/xhtml+xml" || strings.HasPrefix(sniffed, "text/html") {
		alternates := feedLinks(body, d.URL)
		return &Error{Kind: KindNotFeed, URL: d.URL, Alternates: alternates, Detail: notFeedDetail("this is an HTML page", alternates)}
	}
	what := mediaType
	if what == "" {
		what, _, _ = strings.Cut(sniffed, ";")
	}
	return &Error{Kind: KindNotFeed, URL: d.URL, Detail: fmt.Sprintf("the response (%s) is not an RSS, Atom or JSON feed", what)}
}

// feedTypes are the link types that announce a feed.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/json":      true, // JSON Feed 1.0 pages used this
	"application/rdf+xml":   true,
	"text/xml":              true,
	"application/xml":       true,
}

// feedLinks returns the absolute URLs of the feeds an HTML page advertises
// with <link rel="alternate" type="application/rss+xml" href="...">, in
// document order, without duplicates, honouring <base href>.
func feedLinks(page []byte, pageURL string) []string {
	const maxScan = 1 << 20
	if len(page) > maxScan {
		page = page[:maxScan]
	}
	base := pageURL
	var links []string
	seen := map[string]bool{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return links
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "html" {
				return links
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if !hasAttr {
				continue
			}
			attrs := map[string]string{}
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			switch string(name) {
			case "base":
				if href, err := absoluteURL(attrs["href"], pageURL); err == nil {
					base = href
				}
			case "link":
				if !hasToken(attrs["rel"], "alternate") && !hasToken(attrs["rel"], "feed") {
					continue
				}
				typ, _, _ := mime.ParseMediaType(attrs["type"])
				if !feedTypes[typ] {
					continue
				}
				href, err := absoluteURL(attrs["href"], base)
				if err != nil || seen[href] {
					continue
				}
				seen[href] = true
				links = append(links, href)
			}
		}
	}
}

// hasToken reports whether a space-separated attribute such as rel holds
// token, ignoring case.
func hasToken(list, token string) bool {
	for _, t := range strings.Fields(list) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// itemBase returns the URL relative item links resolve against: the feed's
// site when it has one, else the document's own URL.
func itemBase(siteURL, docURL string) string {
	if siteURL != "" {
		return siteURL
	}
	return docURL
}

// hostOf returns the host of a URL without "www.", to name an outlet whose
// feed has no title.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}
