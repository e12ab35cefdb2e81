package digest

import "time"

// Story is one event as reported by one or more outlets. Its ID is the ID of
// the article that founded it, so it stays the same as the story grows.
type Story struct {
	ID        int64
	CreatedAt time.Time // first seen of its founding article
	UpdatedAt time.Time // last time an article joined
	Articles  int       // number of member articles
}

// StoryAssignment puts an article into a story.
type StoryAssignment struct {
	ArticleID int64
	StoryID   int64
}

// StoryMerge records that an article bridged two stories: every member of
// From moved into Into, and From no longer exists.
type StoryMerge struct {
	From      int64
	Into      int64
	ArticleID int64 // the article that bridged them
	At        time.Time
}

// StoryFilter narrows ListStories. Zero fields do not filter.
type StoryFilter struct {
	UpdatedSince time.Time // an article joined at or after this time
	FeedIDs      []int64   // with at least one member article linked to one of these feeds
	Limit        int       // at most this many; 0 means all
}

// StoryDelivery records that a story went out in a subscription's digest
// and how many distinct sources it had then, so a later digest repeats it
// only when it grew.
type StoryDelivery struct {
	StoryID int64
	Sources int
}
