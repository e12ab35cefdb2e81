package render

import (
	"strconv"

	"github.com/seed-c50b6fda/herald/digest"
)

// view is a digest reduced to the display strings every renderer shows, in
// the order it shows them. Each renderer adds only its own markup and
// escaping, so the formats cannot drift apart in what they say.
type view struct {
	title   string // never empty
	window  string // "Fri 22 Mar 09:00 – Sat 23 Mar 09:00 MSK", or ""
	stories []storyView
	empty   string // "No new stories." when there are none, else ""
	more    string // "and 3 more stories", or ""
	notices []string
}

// storyView is one story's display strings.
type storyView struct {
	number   string // "1."
	headline string // never empty
	url      string // safe link target for the headline, or ""
	meta     string // time and developing marker: "Fri 22 Mar 14:05 MSK · Developing: +2 new sources", or ""
	time     string // "Fri 22 Mar 14:05 MSK", or ""
	dev      string // "Developing: +2 new sources", or ""
	summary  string
	label    string // "3 sources:", or "" without sources
	sources  []sourceView
}

// sourceView is one outlet of a story.
type sourceView struct {
	name string // never empty
	url  string // safe link target, or ""
}

// defaultTitle is shown when a digest has no title of its own.
const defaultTitle = "Herald digest"

func newView(d digest.Digest) view {
	loc := location(d.Location)
	v := view{title: clean(d.Title), window: formatWindow(d.Since, d.Until, loc)}
	if v.title == "" {
		v.title = defaultTitle
	}
	for i, s := range d.Stories {
		sv := storyView{
			number:   strconv.Itoa(i+1) + ".",
			headline: clean(s.Headline),
			url:      safeURL(s.URL),
			summary:  clean(s.Summary),
		}
		if sv.headline == "" {
			sv.headline = "(untitled)"
		}
		sv.time, sv.dev = formatTime(s.Time, loc), developing(s)
		sv.meta = sv.time
		if sv.dev != "" {
			if sv.meta != "" {
				sv.meta += " · "
			}
			sv.meta += sv.dev
		}
		for _, src := range s.Sources {
			name := clean(src.Name)
			if name == "" {
				name = clean(hostOf(src.URL))
			}
			if name == "" {
				name = "source"
			}
			sv.sources = append(sv.sources, sourceView{name: name, url: safeURL(src.URL)})
		}
		if n := len(sv.sources); n > 0 {
			sv.label = plural(n, "source", "sources") + ":"
		}
		v.stories = append(v.stories, sv)
	}
	if len(v.stories) == 0 {
		v.empty = "No new stories."
	}
	if d.More > 0 {
		v.more = "and " + plural(d.More, "more story", "more stories")
	}
	for _, n := range d.Notices {
		if n = clean(n); n != "" {
			v.notices = append(v.notices, n)
		}
	}
	return v
}

// size estimates the bytes of text v shows, to size buffers.
func (v view) size() int {
	n := len(v.title) + len(v.window) + len(v.empty) + len(v.more) + 64
	for _, s := range v.stories {
		n += len(s.headline) + len(s.meta) + len(s.summary) + len(s.label) + 32
		for _, src := range s.sources {
			n += len(src.name) + 8
		}
	}
	for _, x := range v.notices {
		n += len(x) + 8
	}
	return n
}

// developing is the marker of a story that grew since it was last sent.
func developing(s digest.DigestStory) string {
	switch {
	case !s.Developing:
		return ""
	case s.NewSources > 0:
		return "Developing: +" + plural(s.NewSources, "new source", "new sources")
	default:
		return "Developing"
	}
}

// noticeMark starts every notice line.
const noticeMark = "⚠️ "
