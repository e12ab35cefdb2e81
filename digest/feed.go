package digest

import "time"

// Feed is a source Herald polls: an RSS, Atom or JSON Feed document at URL.
type Feed struct {
	ID        int64
	URL       string    // the feed document's address, as fetched
	Name      string    // short name chosen by a user; empty means Title
	Title     string    // title the feed document gives itself
	SiteURL   string    // the site the feed belongs to
	Language  string    // language the feed declares (BCP 47), if any
	Priority  int       // ranking weight for digests; 0 is normal, higher ranks first
	CreatedAt time.Time // when the feed was added

	FetchState

	// Articles is the number of stored articles linked to this feed. Stores
	// fill it on reads; writes ignore it.
	Articles int
}

// FetchState is what the poller remembers about a feed between fetches.
type FetchState struct {
	ETag         string    // validator for If-None-Match
	LastModified string    // validator for If-Modified-Since, as the server sent it
	BodyHash     string    // hash of the last body, to skip parsing unchanged bodies
	CheckedAt    time.Time // last fetch attempt
	SucceededAt  time.Time // last successful fetch (2xx or 304)
	NextCheckAt  time.Time // earliest time of the next fetch

	ConsecutiveErrors int       // failed fetches since the last success
	LastError         string    // message of the last failure; empty when healthy
	FailingSince      time.Time // first failure of the current run of failures
}

// Feed states, as shown by Status.
const (
	FeedNew     = "new"     // never fetched
	FeedOK      = "ok"      // last fetch succeeded
	FeedFailing = "failing" // last fetch failed
)

// Status reports whether the feed is new, ok or failing.
func (f *Feed) Status() string {
	switch {
	case f.ConsecutiveErrors > 0:
		return FeedFailing
	case f.CheckedAt.IsZero():
		return FeedNew
	default:
		return FeedOK
	}
}

// DisplayName is the name to show people: the user's name for the feed, else
// its own title, else its URL.
func (f *Feed) DisplayName() string {
	switch {
	case f.Name != "":
		return f.Name
	case f.Title != "":
		return f.Title
	default:
		return f.URL
	}
}

// FeedFilter narrows ListFeeds. Zero fields do not filter.
type FeedFilter struct {
	DueBefore time.Time // only feeds whose NextCheckAt is at or before this time
	IDs       []int64   // only these feeds
	Limit     int       // at most this many; 0 means all
}
