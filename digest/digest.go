// Package digest owns Herald's domain: the types every other package speaks
// (feeds, articles, stories, chats, subscriptions, the delivery outbox), the
// store interfaces that persist them, and the domain error type.
//
// It imports only the standard library. Technology lives in subpackages and
// siblings: fetching and parsing in digest/fetch, story clustering in
// digest/dedup, persistence in store/sqlite (and later store/postgres), chat
// platforms under bot/. Wiring happens only in cmd/herald.
package digest

import "time"

// Digest is a built digest, ready to render for a platform: the ranked
// stories of a window, capped, with the count of those left out.
type Digest struct {
	Title    string         // e.g. "Herald digest"
	Since    time.Time      // window start
	Until    time.Time      // window end
	Location *time.Location // time zone the reader sees times in; nil means UTC
	Stories  []DigestStory
	More     int      // stories left out by the cap ("and N more stories")
	Notices  []string // things the reader should know, e.g. a feed that keeps failing
}

// DigestStory is one story as a digest shows it.
type DigestStory struct {
	StoryID    int64
	Headline   string    // the most representative headline
	URL        string    // link of the article the headline comes from
	Summary    string    // one or two sentences chosen across the articles
	Time       time.Time // earliest publication among its articles
	Sources    []Source  // one per outlet, in order of publication
	ArticleIDs []int64
	Developing bool // sent before and has grown since
	NewSources int  // outlets added since it was last sent, when Developing
}

// Source is one outlet's article in a story.
type Source struct {
	Name string
	URL  string
}
