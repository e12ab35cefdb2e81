package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// JSONDigest is the shape of the json format, for scripts. Times are RFC
// 3339 in the digest's time zone; text is as the feeds gave it (not
// cleaned or escaped: scripts escape for wherever they put it). Lists are
// never null.
type JSONDigest struct {
	Title    string      `json:"title"`
	Since    string      `json:"since,omitempty"`
	Until    string      `json:"until,omitempty"`
	TimeZone string      `json:"time_zone"`
	Stories  []JSONStory `json:"stories"`
	More     int         `json:"more"`
	Notices  []string    `json:"notices"`
}

// JSONStory is one story of a JSONDigest.
type JSONStory struct {
	StoryID    int64        `json:"story_id"`
	Headline   string       `json:"headline"`
	URL        string       `json:"url,omitempty"`
	Summary    string       `json:"summary"`
	Time       string       `json:"time,omitempty"`
	ArticleIDs []int64      `json:"article_ids"`
	Sources    []JSONSource `json:"sources"`
	Developing bool         `json:"developing"`
	NewSources int          `json:"new_sources"`
}

// JSONSource is one outlet of a JSONStory.
type JSONSource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// NewJSONDigest converts d to its JSON shape.
func NewJSONDigest(d digest.Digest) JSONDigest {
	loc := location(d.Location)
	rfc := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	j := JSONDigest{
		Title:    d.Title,
		Since:    rfc(d.Since),
		Until:    rfc(d.Until),
		TimeZone: loc.String(),
		Stories:  []JSONStory{},
		More:     d.More,
		Notices:  append([]string{}, d.Notices...),
	}
	if j.Title == "" {
		j.Title = defaultTitle
	}
	for _, s := range d.Stories {
		js := JSONStory{
			StoryID:    s.StoryID,
			Headline:   s.Headline,
			URL:        s.URL,
			Summary:    s.Summary,
			Time:       rfc(s.Time),
			ArticleIDs: append([]int64{}, s.ArticleIDs...),
			Sources:    []JSONSource{},
			Developing: s.Developing,
			NewSources: s.NewSources,
		}
		for _, src := range s.Sources {
			js.Sources = append(js.Sources, JSONSource{Name: src.Name, URL: src.URL})
		}
		j.Stories = append(j.Stories, js)
	}
	return j
}

// JSON renders d as indented JSON (see JSONDigest), ending in a newline.
// Invalid UTF-8 in feed text becomes U+FFFD.
func JSON(d digest.Digest) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(NewJSONDigest(d)); err != nil {
		return nil, fmt.Errorf("encode digest as json: %w", err)
	}
	return buf.Bytes(), nil
}
