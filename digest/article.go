package digest

import "time"

// Article is one item of a feed, normalised. The same article seen in several
// feeds is stored once (by Key) and linked to each of them.
type Article struct {
	ID       int64
	Key      string // identity: GUID, else canonical URL, else a content hash; unique
	FeedID   int64  // the feed it was first seen in
	GUID     string // the feed's id for the item, if any
	URL      string // canonical link
	Title    string // clean text
	Summary  string // clean text
	Content  string // plain text of the body
	Author   string
	ImageURL string
	Language string // BCP 47 tag, from the item or its feed, if known
	Source   string // the outlet's name, for "3 sources: a, b, c"

	Published time.Time // publication time; clamped to the fetch time, FirstSeen when missing
	FirstSeen time.Time // when Herald first stored it
	StoryID   int64     // the story it belongs to; 0 until clustered
}

// ArticleFilter narrows ListArticles. Zero fields do not filter.
type ArticleFilter struct {
	FeedID     int64     // linked to this feed
	FeedIDs    []int64   // linked to any of these feeds (nil: no filter; empty: nothing)
	StoryID    int64     // members of this story
	URL        string    // with exactly this canonical URL
	Since      time.Time // first seen at or after
	Until      time.Time // first seen before
	Unassigned bool      // only articles without a story
	AfterID    int64     // ID greater than this, for paging in ID order
	Limit      int       // at most this many; 0 means all
}
