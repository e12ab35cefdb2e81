package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/text/language"

	"github.com/seed-c50b6fda/herald/digest"
)

// Identity keys. An article's Key says which item it is, across fetches and
// across feeds, so that the store keeps it once, links it to every feed that
// carries it, and never takes it for new again once it has been seen, even
// after it left a feed and came back. In order of preference:
//
//   - "url:" + canonical URL, for a GUID that is an absolute http(s) URL. A
//     URL names one page whoever publishes it, so the key is global: an
//     aggregator's copy of the item, or a second feed of the same site,
//     maps to the same article.
//   - "id:" + GUID, for tag: (RFC 4151) and urn: GUIDs, which are globally
//     unique by construction.
//   - "guid:" + canonical feed URL + "#" + GUID, for any other GUID. Opaque
//     GUIDs such as "123" or "post-42" are unique only within their feed:
//     two blogs on one platform both have a "123". Scoping by feed (not by
//     host, which hosting platforms and feed proxies share between
//     publishers) can only miss a duplicate, which story clustering then
//     catches; scoping wider could silently drop a different article as
//     "already seen", which nothing would ever notice.
//   - "url:" + canonical URL of the item's link, when it has no GUID (or a
//     GUID the feed reuses for different links, see articles).
//   - "hash:" + SHA-256 of the clean title and content, when it has neither.
//
// Keys longer than maxKey bytes become "sha256:" + the hash of the key.
const maxKey = 512

// Published dates before this are treated as missing: they come from
// zero values and epoch defaults, not from publishers.
var minPlausible = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// normaliser turns gofeed items into articles for one document.
type normaliser struct {
	base      string // relative links resolve against this
	scope     string // canonical feed URL, scoping opaque GUIDs
	source    string // the outlet's name
	language  string // the feed's language
	fetchedAt time.Time
}

func newNormaliser(d Document, f *Feed) *normaliser {
	n := &normaliser{
		base:      itemBase(f.SiteURL, d.URL),
		scope:     d.FeedURL,
		language:  f.Language,
		fetchedAt: d.FetchedAt.UTC(),
	}
	if n.fetchedAt.IsZero() {
		n.fetchedAt = time.Now().UTC()
	}
	if c, err := CanonicalURL(d.FeedURL, ""); err == nil {
		n.scope = c
	}
	n.source = f.Title
	if n.source == "" {
		n.source = firstNonEmpty(hostOf(f.SiteURL), hostOf(d.URL))
	}
	return n
}

// candidate is an item on its way to becoming an article.
type candidate struct {
	article *digest.Article
	guidKey string // key from the GUID, "" without one
	urlKey  string // key from the link, "" without one
}

// articles normalises the items and gives each its Key, dropping empty items
// and duplicates (the first occurrence wins: feeds list newest first, and
// a repeated item is a copy). A GUID that several items share with
// different links is not an identity at all (some feeds put the site's
// address in every <guid>): those items are keyed by their link instead.
func (n *normaliser) articles(items []*gofeed.Item) (out []*digest.Article, duplicates, empty int) {
	cands := make([]candidate, 0, len(items))
	for _, it := range items {
		if it == nil {
			continue
		}
		c, ok := n.candidate(it)
		if !ok {
			empty++
			continue
		}
		cands = append(cands, c)
	}

	// GUIDs reused for different links.
	firstURL := make(map[string]string, len(cands))
	unreliable := map[string]bool{}
	for _, c := range cands {
		if c.guidKey == "" {
			continue
		}
		u, seen := firstURL[c.guidKey]
		switch {
		case !seen:
			firstURL[c.guidKey] = c.urlKey
		case u != c.urlKey:
			unreliable[c.guidKey] = true
		}
	}

	out = make([]*digest.Article, 0, len(cands))
	keys := make(map[string]bool, len(cands))
	for _, c := range cands {
		key := c.guidKey
		if key == "" || unreliable[key] {
			key = c.urlKey
		}
		if key == "" {
			key = hashKey(c.article.Title, c.article.Content)
		}
		key = boundKey(key)
		if keys[key] {
			duplicates++
			continue
		}
		keys[key] = true
		c.article.Key = key
		out = append(out, c.article)
	}
	return out, duplicates, empty
}

// candidate normalises one item. It reports false for an item with no link,
// no title and no text, which nobody could read or recognise.
func (n *normaliser) candidate(it *gofeed.Item) (candidate, bool) {
	a := &digest.Article{
		GUID:      strings.TrimSpace(it.GUID),
		Title:     CleanText(it.Title, maxTitle),
		Language:  n.language,
		Source:    n.source,
		FirstSeen: n.fetchedAt,
		Published: n.published(it),
	}
	if len(a.GUID) > 2048 {
		a.GUID = a.GUID[:2048]
	}
	for _, raw := range append([]string{it.Link}, it.Links...) {
		if raw == "" {
			continue
		}
		if u, err := CanonicalURL(raw, n.base); err == nil {
			a.URL = u
			break
		}
	}

	// One tokenizer pass per item: content gives the text (and the image
	// if there is one), description gives the summary.
	var image string
	switch {
	case it.Content != "":
		a.Content, image = PlainText(it.Content, maxContent)
		if it.Description != "" {
			var descImage string
			a.Summary, descImage = oneLineHTML(it.Description, maxSummary)
			image = firstNonEmpty(image, descImage)
		}
	case it.Description != "":
		a.Content, image = PlainText(it.Description, maxContent)
	}
	if a.Summary == "" {
		a.Summary = oneLine(a.Content, maxSummary)
	}
	if a.Title == "" && a.URL == "" && a.Content == "" {
		return candidate{}, false
	}

	a.Author = n.author(it)
	a.ImageURL = n.image(it, image)
	if it.DublinCoreExt != nil && len(it.DublinCoreExt.Language) > 0 {
		if l := normalizeLanguage(it.DublinCoreExt.Language[0]); l != "" {
			a.Language = l
		}
	}

	c := candidate{article: a}
	if a.URL != "" {
		c.urlKey = "url:" + a.URL
	}
	switch {
	case a.GUID == "":
	case a.GUID == strings.TrimSpace(it.Link) && a.URL != "":
		c.guidKey = c.urlKey // the usual permalink GUID: canonical already
	default:
		c.guidKey = n.guidKey(a.GUID)
	}
	return c, true
}

// guidKey returns the identity key of a GUID (see the Identity keys
// comment).
func (n *normaliser) guidKey(guid string) string {
	scheme, _, ok := strings.Cut(guid, ":")
	if ok {
		switch strings.ToLower(scheme) {
		case "http", "https":
			if c, err := CanonicalURL(guid, ""); err == nil {
				return "url:" + c
			}
		case "tag", "urn":
			return "id:" + guid
		}
	}
	return "guid:" + n.scope + "#" + guid
}

// hashKey identifies an item without GUID or link by its text.
func hashKey(title, content string) string {
	h := sha256.New()
	h.Write([]byte(title))
	h.Write([]byte{0})
	h.Write([]byte(content))
	return "hash:" + hex.EncodeToString(h.Sum(nil))
}

func boundKey(key string) string {
	if len(key) <= maxKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// published returns the item's publication (else update) time, clamped to
// the fetch time: a date in the future is a publisher's mistake or a time
// zone error, and would keep the item on top of every digest. A missing or
// implausible date becomes the first-seen time.
func (n *normaliser) published(it *gofeed.Item) time.Time {
	var t time.Time
	switch {
	case it.PublishedParsed != nil:
		t = *it.PublishedParsed
	case it.UpdatedParsed != nil:
		t = *it.UpdatedParsed
	}
	if t.Before(minPlausible) || t.After(n.fetchedAt) {
		return n.fetchedAt
	}
	return t.UTC()
}

// author returns the item's authors' names, clean, comma-separated.
func (n *normaliser) author(it *gofeed.Item) string {
	var names []string
	for _, p := range it.Authors {
		if p == nil {
			continue
		}
		if name := CleanText(p.Name, maxAuthor); name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 && it.Author != nil {
		names = append(names, CleanText(it.Author.Name, maxAuthor))
	}
	return oneLine(strings.Join(names, ", "), maxAuthor)
}

// image returns the item's image as an absolute URL: the one the feed names
// (gofeed's item image, media:thumbnail, an image enclosure), else the first
// image of the item's HTML.
func (n *normaliser) image(it *gofeed.Item, fromHTML string) string {
	var candidates []string
	if it.Image != nil {
		candidates = append(candidates, it.Image.URL)
	}
	for _, e := range it.Extensions["media"]["thumbnail"] {
		candidates = append(candidates, e.Attrs["url"])
	}
	for _, e := range it.Enclosures {
		if e != nil && strings.HasPrefix(e.Type, "image/") {
			candidates = append(candidates, e.URL)
		}
	}
	candidates = append(candidates, fromHTML)
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if u, err := absoluteURL(c, n.base); err == nil {
			return u
		}
	}
	return ""
}

// oneLine collapses already clean text to one line of at most max runes.
func oneLine(s string, max int) string {
	t := textBuilder{max: max}
	t.write([]byte(s))
	return t.String()
}

// oneLineHTML is CleanText that also reports the first image.
func oneLineHTML(s string, max int) (text, image string) {
	t := textBuilder{max: max, wantImage: true}
	t.html(s, false)
	return t.String(), t.image
}

// normalizeLanguage returns the BCP 47 form of a language tag ("en-us" and
// "en_US" become "en-US"), or "" when it is not a valid tag.
func normalizeLanguage(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	if s == "" || len(s) > 35 {
		return ""
	}
	tag, err := language.Parse(s)
	if err != nil || tag == language.Und {
		return ""
	}
	return tag.String()
}
