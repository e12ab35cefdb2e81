package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/seed-c50b6fda/herald/digest"
)

// searchPerPage is how many stories one page of /search shows.
const searchPerPage = 5

// searchSession remembers a search so its paging buttons stay short: the
// query and the cursor that starts each page seen so far.
type searchSession struct {
	query string

	mu      sync.Mutex // buttons of one search may be pressed at once
	cursors []string   // cursors[i] starts page i+1; cursors[0] is ""
}

// cursor returns the cursor of page, or false for a page not reached yet.
func (s *searchSession) cursor(page int) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if page < 1 || page > len(s.cursors) {
		return "", false
	}
	return s.cursors[page-1], true
}

// reached records the cursor that starts the page after page.
func (s *searchSession) reached(page int, next string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if next != "" && len(s.cursors) == page {
		s.cursors = append(s.cursors, next)
	}
}

func (b *Bot) cmdSearch(ctx context.Context, req *Request) ([]*Message, error) {
	q := strings.TrimSpace(req.Args)
	if q == "" {
		return nil, usage("search", `What should I look for? For example: /search "heat wave" -sport since:7d`)
	}
	s := &searchSession{query: q, cursors: []string{""}}
	return b.searchPage(ctx, req, b.pages.put(s), s, 1, false)
}

func (b *Bot) searchPage(ctx context.Context, req *Request, key string, s *searchSession, page int, replace bool) ([]*Message, error) {
	loc := location(nil)
	if sub, err := b.d.Store.FindSubscription(ctx, req.Platform, req.ChatID, req.ThreadID); err == nil {
		loc = location(sub)
	}
	cursor, ok := s.cursor(page)
	if !ok {
		return nil, digest.Errorf(digest.EINVALID, "That search has expired; send /search again.")
	}
	res, err := b.d.Store.Search(ctx, digest.SearchRequest{Query: s.query, Limit: searchPerPage, Cursor: cursor, Location: loc})
	if err != nil {
		return nil, err
	}
	if len(res.Hits) == 0 {
		if page == 1 {
			return replyText(fmt.Sprintf("Nothing found for %s. Try fewer words, or a longer time span (since:30d).", quote(s.query))), nil
		}
		return replyText("No more results."), nil
	}
	s.reached(page, res.NextCursor)
	var items []Item
	for _, h := range res.Hits {
		note := fmt.Sprintf("%s, %s", h.Source, formatTime(h.Published, loc))
		if h.Sources > 1 {
			note = fmt.Sprintf("%s and %d more sources, %s", h.Source, h.Sources-1, formatTime(h.Published, loc))
		}
		if snip := digest.PlainSnippet(h.Snippet); snip != "" {
			note += " — " + snip
		}
		items = append(items, Item{Text: h.Title, URL: h.URL, Note: note})
	}
	m := say(heading(fmt.Sprintf("Results for %s, page %d", quote(s.query), page)), bullets(items...))
	m.Replace = replace
	if page > 1 {
		m.Buttons = append(m.Buttons, Button{Label: "‹ Previous", Data: fmt.Sprintf("search:%s:%d", key, page-1)})
	}
	if res.NextCursor != "" {
		m.Buttons = append(m.Buttons, Button{Label: "Next ›", Data: fmt.Sprintf("search:%s:%d", key, page+1)})
	}
	return []*Message{m}, nil
}

// searchCallback answers a paging button of a search.
func (b *Bot) searchCallback(ctx context.Context, req *Request, arg string) ([]*Message, error) {
	key, pageText, _ := strings.Cut(arg, ":")
	page, err := strconv.Atoi(pageText)
	v, ok := b.pages.get(key)
	s, isSearch := v.(*searchSession)
	if err != nil || !ok || !isSearch {
		return nil, digest.Errorf(digest.EINVALID, "That search has expired; send /search again.")
	}
	return b.searchPage(ctx, req, key, s, page, true)
}
