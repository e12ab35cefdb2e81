package poll

import "github.com/seed-c50b6fda/herald/digest"

// scheduler hands out feeds to fetch so that at most limit are in flight
// overall and at most perHost per host, without head-of-line blocking: a
// feed whose host is busy never holds a global slot while feeds of idle
// hosts wait. Hosts take turns (round robin). Every operation is O(1).
//
// It is used from one goroutine.
type scheduler struct {
	limit, perHost  int
	active, pending int

	queues map[string][]*digest.Feed // feeds not started, by host
	tokens map[string]int            // entries of host in ready
	busy   map[string]int            // feeds in flight, by host
	ready  []string                  // FIFO of hosts that may start a feed now
}

func newScheduler(feeds []*digest.Feed, limit, perHost int) *scheduler {
	s := &scheduler{
		limit:   limit,
		perHost: perHost,
		pending: len(feeds),
		queues:  map[string][]*digest.Feed{},
		tokens:  map[string]int{},
		busy:    map[string]int{},
	}
	var order []string
	for _, f := range feeds {
		h := hostKey(f.URL)
		if _, ok := s.queues[h]; !ok {
			order = append(order, h)
		}
		s.queues[h] = append(s.queues[h], f)
	}
	// Hand out first slots of every host before second ones, so that the
	// first wave spreads across hosts.
	for round := 0; round < perHost; round++ {
		for _, h := range order {
			if len(s.queues[h]) > round {
				s.ready = append(s.ready, h)
				s.tokens[h]++
			}
		}
	}
	return s
}

// next returns a feed to start, or false when none may start now.
func (s *scheduler) next() (*digest.Feed, string, bool) {
	if s.active >= s.limit || len(s.ready) == 0 {
		return nil, "", false
	}
	h := s.ready[0]
	s.ready = s.ready[1:]
	s.tokens[h]--
	q := s.queues[h]
	f := q[0]
	q[0] = nil
	s.queues[h] = q[1:]
	s.active++
	s.pending--
	s.busy[h]++
	return f, h, true
}

// finished records that a feed of host h is done, freeing its slots.
func (s *scheduler) finished(h string) {
	s.active--
	s.busy[h]--
	if len(s.queues[h]) > s.tokens[h] && s.busy[h]+s.tokens[h] < s.perHost {
		s.ready = append(s.ready, h)
		s.tokens[h]++
	}
}
