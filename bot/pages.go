package bot

import (
	"container/list"
	"sync"
)

// pageCache remembers what a paging button refers to (a search query and
// its cursor), so that a button carries only a short key: Telegram allows
// 64 bytes of callback data. It forgets the least recently used entries
// beyond its size; an old button then asks the user to search again.
type pageCache struct {
	mu    sync.Mutex
	size  int
	order *list.List
	items map[string]*list.Element
	next  uint64
}

type pageEntry struct {
	key   string
	value any
}

func newPageCache(size int) *pageCache {
	return &pageCache{size: size, order: list.New(), items: map[string]*list.Element{}}
}

// put stores v and returns its key.
func (c *pageCache) put(v any) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	key := strconvBase36(c.next)
	c.items[key] = c.order.PushFront(&pageEntry{key: key, value: v})
	for c.order.Len() > c.size {
		e := c.order.Back()
		c.order.Remove(e)
		delete(c.items, e.Value.(*pageEntry).key)
	}
	return key
}

// get returns the value stored under key.
func (c *pageCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*pageEntry).value, true
}

func strconvBase36(n uint64) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%36]}, b...)
		n /= 36
	}
	return string(b)
}
