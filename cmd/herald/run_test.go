package main

// End-to-end tests of `herald run` as a real process (this test binary
// re-executed as the herald command, see TestMain) against the fake
// Telegram Bot API of bot/telegram/telegramtest, with feeds served by an
// httptest server and the database in a temporary directory.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot/telegram"
	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// daemon is one `herald run` process.
type daemon struct {
	tb      testing.TB
	cmd     *exec.Cmd
	logs    *lockedBuffer // stderr: the process's log
	started time.Time
	done    chan struct{} // closed when the process has exited
	state   *os.ProcessState
}

// startDaemon starts `herald run` in dir with env (HERALD_* variables) added
// to a minimal environment: the program bin, or this test binary as herald
// when bin is "". The process is killed when the test ends if it is still
// running.
func startDaemon(tb testing.TB, bin, dir string, env []string) *daemon {
	tb.Helper()
	if bin == "" {
		bin = os.Args[0]
	}
	cmd := exec.Command(bin, "run")
	cmd.Dir = dir
	// With the race detector, a process sleeps a second before exiting
	// unless told otherwise; a real herald exits at once.
	race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append([]string{"HERALD_TEST_AS_MAIN=1", "PATH=" + os.Getenv("PATH"), "GORACE=" + race}, env...)
	d := &daemon{tb: tb, cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start herald run: %v", err)
	}
	d.started = time.Now()
	go func() {
		cmd.Wait()
		d.state = cmd.ProcessState
		close(d.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-d.done:
		default:
			cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// raceEnabled reports whether this test binary has the race detector.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// fastHerald returns the herald program for tests that load the daemon
// with hundreds of digests: "" (this test binary, re-executed as herald)
// unless it carries the race detector, which makes every query of the
// pure-Go SQLite some fifty times slower (a digest takes about 0.7s to
// build instead of 15ms); then a herald built from the same sources
// without it, in a temporary directory. The e2e test keeps the race
// detector on a real process.
func fastHerald(tb testing.TB) string {
	tb.Helper()
	if !raceEnabled() {
		return ""
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("building herald without the race detector needs the go command on PATH: %v", err)
	}
	bin := filepath.Join(tb.TempDir(), "herald")
	start := time.Now()
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build herald without the race detector: %v\n%s", err, out)
	}
	tb.Logf("built herald without the race detector in %s", time.Since(start).Round(100*time.Millisecond))
	return bin
}

// exited reports whether the process has ended.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// kill ends the process with SIGKILL and waits for it.
func (d *daemon) kill() {
	d.tb.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		d.tb.Fatalf("SIGKILL: %v", err)
	}
	<-d.done
}

// terminate sends SIGTERM and waits up to limit for the process to exit.
// It returns the exit code and how long the process took to exit.
func (d *daemon) terminate(limit time.Duration) (code int, took time.Duration) {
	d.tb.Helper()
	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.tb.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-d.done:
	case <-time.After(limit):
		d.tb.Fatalf("herald run did not exit within %s of SIGTERM; log:\n%s", limit, d.logs)
	}
	return d.state.ExitCode(), time.Since(start)
}

// checkLogs fails the test if a log shows a secret or a data race (the
// re-executed test binary carries the race detector when the tests do).
func checkLogs(tb testing.TB, logs string, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			tb.Errorf("the log shows a secret (%.12s...)", s)
		}
	}
	if strings.Contains(logs, "WARNING: DATA RACE") {
		tb.Errorf("the race detector reported a data race in herald run:\n%s", logs)
	}
	if strings.Contains(logs, "panic:") {
		tb.Errorf("herald run panicked:\n%s", logs)
	}
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get fetches url and returns the status and body; status 0 means no
// answer.
func get(url string) (int, string) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitFor polls cond every 20ms until it holds, failing the test after
// limit. It gives up early if d exits.
func waitFor(tb testing.TB, d *daemon, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if d != nil && d.exited() {
			tb.Fatalf("herald run exited (%v) while waiting for %s; log:\n%s", d.state, what, d.logs)
		}
		if time.Now().After(deadline) {
			log := ""
			if d != nil {
				log = d.logs.String()
			}
			tb.Fatalf("timed out after %s waiting for %s; log:\n%s", limit, what, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricsText is a scrape of /metrics in Prometheus' text format.
type metricsText map[string]float64

// scrape reads every sample of /metrics, keyed by name and labels as the
// exposition writes them (labels sorted by name).
func scrape(tb testing.TB, addr string) metricsText {
	tb.Helper()
	code, body := get("http://" + addr + "/metrics")
	if code != http.StatusOK {
		tb.Fatalf("GET /metrics: %d %s", code, body)
	}
	m := metricsText{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			tb.Fatalf("/metrics: bad sample line %q", line)
		}
		m[line[:i]] = v
	}
	return m
}

// get returns a sample, failing the test if /metrics lacks it. labels are
// name, value pairs in the order of their names.
func (m metricsText) get(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	key := name
	if len(labels) > 0 {
		var parts []string
		for i := 0; i+1 < len(labels); i += 2 {
			parts = append(parts, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
		}
		key += "{" + strings.Join(parts, ",") + "}"
	}
	v, ok := m[key]
	if !ok {
		var have []string
		for k := range m {
			if strings.HasPrefix(k, name) {
				have = append(have, k)
			}
		}
		slices.Sort(have)
		tb.Fatalf("/metrics has no %s; samples of %s: %v", key, name, have)
	}
	return v
}

// seedConfig describes a database prepared for a scheduled delivery:
// chats with one subscription each, every one due at start.
type seedConfig struct {
	chats      int     // subscriptions, one per chat
	groupShare float64 // share of chats that are supergroups (the rest are private chats)
	events     int     // stories in the window
	minStories int     // stories per digest (the subscription's limit), at least
	maxStories int     // at most
	summary    int     // characters of each article's summary, at least
	seed       uint64
}

// seeded is what seedScheduled prepared.
type seeded struct {
	slot  time.Time // the latest slot of the schedule, due at start
	chats []int64   // Telegram chat ids, in subscription order
	feeds []int64   // feeds created
}

// outlets are the invented news outlets of the seeded feeds.
var outlets = []string{"Harbor Post", "Daily Ledger", "Northwind Times", "Rundschau", "Valley Wire", "Coast Courier"}

// seedScheduled prepares the store db directly with
// stored, clustered articles (each event reported by one to four outlets
// is one story) first seen in the quarter hour before the latest
// "every 15 minutes" slot, and cfg.chats chats each with a subscription to
// some of the outlets whose last digest ended a quarter hour before that
// slot: at start the scheduler owes each exactly one digest. The feeds are
// fetched already and not due, so the daemon's poller leaves them alone.
// The chats are added to fake too.
func seedScheduled(tb testing.TB, db digest.Store, fake *telegramtest.Server, cfg seedConfig) seeded {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(cfg.seed, 0x4e52))
	now := time.Now()
	slot := now.Truncate(15 * time.Minute)
	windowStart := slot.Add(-15 * time.Minute)

	var feedIDs []int64
	for i, name := range outlets {
		f := &digest.Feed{URL: fmt.Sprintf("https://feeds%d.example/rss", i), Title: name, CreatedAt: now.Add(-48 * time.Hour)}
		if err := db.CreateFeed(ctx, f); err != nil {
			tb.Fatal(err)
		}
		f.CheckedAt, f.SucceededAt, f.NextCheckAt = now.Add(-time.Minute), now.Add(-time.Minute), now.Add(24*time.Hour)
		if err := db.UpdateFeed(ctx, f); err != nil {
			tb.Fatal(err)
		}
		feedIDs = append(feedIDs, f.ID)
	}
	var reporters [][]int // the outlets of each event
	subjects := []string{"council", "harbour", "rail strike", "storm", "election", "museum", "bridge", "wildfire", "budget", "court"}
	words := strings.Fields("the city said on Tuesday that officials expect further talks while residents and local groups " +
		"asked for more details about costs timing and the effect on services across the region over the coming weeks")
	byFeed := map[int64][]*digest.Article{}
	var events [][]*digest.Article
	for e := range cfg.events {
		subject := subjects[e%len(subjects)]
		by := rng.Perm(len(outlets))[:1+rng.IntN(4)]
		reporters = append(reporters, by)
		var members []*digest.Article
		for _, o := range by {
			// Sentences of 8 to 19 words, as a summary has.
			var sum strings.Builder
			fmt.Fprintf(&sum, "Event %d brought news on the %s.", e+1, subject)
			for sum.Len() < cfg.summary {
				sum.WriteString(" The")
				for range 7 + rng.IntN(12) {
					sum.WriteString(" " + words[rng.IntN(len(words))])
				}
				sum.WriteString(".")
			}
			seen := windowStart.Add(time.Duration(1+rng.IntN(13*60)) * time.Second)
			a := &digest.Article{
				Key: fmt.Sprintf("event-%d-%d", e, o), URL: fmt.Sprintf("https://outlet%d.example/news/%d", o, e),
				Title:   fmt.Sprintf("Event %d: %s update from %s", e+1, subject, outlets[o]),
				Summary: sum.String(), Source: outlets[o], Language: "en",
				Published: seen.Add(-time.Minute), FirstSeen: seen,
			}
			byFeed[feedIDs[o]] = append(byFeed[feedIDs[o]], a)
			members = append(members, a)
		}
		events = append(events, members)
	}
	for id, as := range byFeed {
		if _, err := db.SaveArticles(ctx, id, as); err != nil {
			tb.Fatal(err)
		}
	}
	var assign []digest.StoryAssignment
	for _, members := range events {
		for _, a := range members {
			assign = append(assign, digest.StoryAssignment{ArticleID: a.ID, StoryID: members[0].ID})
		}
	}
	if err := db.AssignStories(ctx, assign, windowStart); err != nil {
		tb.Fatal(err)
	}

	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"}
	out := seeded{slot: slot, feeds: feedIDs}
	for i := range cfg.chats {
		var id int64
		kind := "private"
		if rng.Float64() < cfg.groupShare {
			id, kind = -1_000_000_000_000-int64(i), "group"
			fake.AddChat(telegramtest.Chat{ID: id, Type: "supergroup", Title: fmt.Sprintf("Team %d", i)})
		} else {
			id = 5_000_000 + int64(i)
			fake.AddUser(id, fmt.Sprintf("Reader %d", i), "")
			fake.AddPrivateChat(id)
		}
		chat := &digest.Chat{Platform: digest.PlatformTelegram, ID: strconv.FormatInt(id, 10), Kind: kind, CreatedAt: now.Add(-48 * time.Hour)}
		if err := db.UpsertChat(ctx, chat); err != nil {
			tb.Fatal(err)
		}
		// Some of the outlets, always one that reported some event, so
		// that every digest has stories.
		follow := []int64{feedIDs[reporters[i%len(reporters)][0]]}
		for _, p := range rng.Perm(len(feedIDs))[:1+rng.IntN(len(feedIDs)-1)] {
			if !slices.Contains(follow, feedIDs[p]) {
				follow = append(follow, feedIDs[p])
			}
		}
		sub := &digest.Subscription{
			Platform: digest.PlatformTelegram, ChatID: chat.ID, FeedIDs: follow,
			Schedule: "*/15 * * * *", TimeZone: zones[rng.IntN(len(zones))],
			Limit:        cfg.minStories + rng.IntN(cfg.maxStories-cfg.minStories+1),
			LastDigestAt: windowStart, CreatedAt: now.Add(-48 * time.Hour),
		}
		if err := db.CreateSubscription(ctx, sub); err != nil {
			tb.Fatal(err)
		}
		out.chats = append(out.chats, id)
	}
	return out
}

// delivery compares what the fake Telegram received with the outbox.
type delivery struct {
	parts       int // digest parts in the outbox
	sent        int // of which marked sent
	delivered   int // parts that arrived at least once
	duplicates  int // extra arrivals of parts that arrived more than once
	maxAttempts int // the most attempts one part took
	first       time.Time
	last        time.Time // first and last arrival of a digest part
}

// outboxState reads the outbox: the digest parts by chat (in slot and part
// order) and how many subscriptions (of the chats, when given) have their
// digest for slot built.
func outboxState(tb testing.TB, db digest.Store, slot time.Time, chats ...int64) (parts map[string][]*digest.OutboxMessage, pending, built int) {
	tb.Helper()
	ctx := context.Background()
	msgs, err := db.ListOutbox(ctx, digest.OutboxFilter{Kind: "digest"})
	if err != nil {
		tb.Fatal(err)
	}
	parts = map[string][]*digest.OutboxMessage{}
	for _, m := range msgs {
		parts[m.ChatID] = append(parts[m.ChatID], m)
		if m.Status == digest.OutboxPending {
			pending++
		}
	}
	for _, ps := range parts {
		slices.SortFunc(ps, func(a, b *digest.OutboxMessage) int {
			if c := a.Slot.Compare(b.Slot); c != 0 {
				return c
			}
			return a.Part - b.Part
		})
	}
	subs, err := db.ListSubscriptions(ctx, digest.SubscriptionFilter{Platform: digest.PlatformTelegram})
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range subs {
		if (len(chats) == 0 || slices.Contains(chats, atoi64(s.ChatID))) && !s.LastDigestAt.Before(slot) {
			built++
		}
	}
	return parts, pending, built
}

// waitAllSent waits until every seeded subscription has its digest built
// and no digest part is pending, while the daemons keep running.
func waitAllSent(tb testing.TB, db digest.Store, s seeded, limit time.Duration, daemons ...*daemon) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !allSent(tb, db, s) {
		for _, d := range daemons {
			if d.exited() {
				tb.Fatalf("herald run exited (%v) before every digest was sent; log:\n%s", d.state, d.logs)
			}
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, d := range daemons {
				logs.WriteString(d.logs.String())
			}
			tb.Fatalf("timed out after %s waiting for %d digests built and sent; log:\n%s", limit, len(s.chats), logs.String())
		}
		// Not too often: the test shares two cores with the daemon.
		time.Sleep(250 * time.Millisecond)
	}
}

// allSent reports whether every seeded subscription has its digest built
// and no digest part is pending.
func allSent(tb testing.TB, db digest.Store, s seeded) bool {
	tb.Helper()
	ctx := context.Background()
	pending, err := db.ListOutbox(ctx, digest.OutboxFilter{Status: digest.OutboxPending, Kind: "digest", Limit: 1})
	if err != nil {
		tb.Fatal(err)
	}
	if len(pending) > 0 {
		return false
	}
	subs, err := db.ListSubscriptions(ctx, digest.SubscriptionFilter{Platform: digest.PlatformTelegram})
	if err != nil {
		tb.Fatal(err)
	}
	built := 0
	for _, sub := range subs {
		if slices.Contains(s.chats, atoi64(sub.ChatID)) && !sub.LastDigestAt.Before(s.slot) {
			built++
		}
	}
	return built == len(s.chats)
}

// checkDelivery matches every message the fake received in the seeded
// chats with the outbox's digest parts: each part must have arrived, in
// order, marked sent with the id of a message that carries it; nothing
// else may have arrived. It reports the counts.
func checkDelivery(tb testing.TB, fake *telegramtest.Server, db digest.Store, s seeded) delivery {
	tb.Helper()
	parts, _, built := outboxState(tb, db, s.slot, s.chats...)
	if built != len(s.chats) {
		tb.Errorf("%d of %d subscriptions have their digest built", built, len(s.chats))
	}
	var r delivery
	for _, chat := range s.chats {
		id := strconv.FormatInt(chat, 10)
		ps := parts[id]
		if len(ps) == 0 {
			tb.Errorf("chat %s: no digest in the outbox (the seeded window has stories for every chat)", id)
			continue
		}
		// The parts of one chat's digest, by payload text.
		want := map[string]int{} // HTML -> index in ps
		for i, p := range ps {
			var pl telegram.Payload
			if err := json.Unmarshal(p.Payload, &pl); err != nil {
				tb.Fatalf("outbox %d: payload: %v", p.ID, err)
			}
			if _, dup := want[pl.Text]; dup {
				tb.Fatalf("chat %s: two parts with the same text; the test cannot tell them apart", id)
			}
			want[pl.Text] = i
			r.parts++
			r.maxAttempts = max(r.maxAttempts, p.Attempts)
			if p.Status == digest.OutboxSent {
				r.sent++
			} else {
				tb.Errorf("outbox %d (%s) is %s after the run: %s", p.ID, p.Key, p.Status, p.LastError)
			}
		}
		arrivals := make([][]int, len(ps)) // message ids of each part's arrivals
		prev := -1
		for _, m := range fake.Sent(chat) {
			i, ok := want[m.HTML]
			if !ok {
				tb.Errorf("chat %s: message %d is no digest part of the outbox:\n%s", id, m.ID, m.Text)
				continue
			}
			if i < prev {
				tb.Errorf("chat %s: part %d arrived after part %d", id, i+1, prev+1)
			}
			prev = max(prev, i)
			arrivals[i] = append(arrivals[i], m.ID)
			if r.first.IsZero() || m.Date.Before(r.first) {
				r.first = m.Date
			}
			if m.Date.After(r.last) {
				r.last = m.Date
			}
		}
		for i, ids := range arrivals {
			switch {
			case len(ids) == 0:
				tb.Errorf("chat %s: part %d of %d never arrived (outbox %d is %s)", id, i+1, len(ps), ps[i].ID, ps[i].Status)
				continue
			case len(ids) > 1:
				r.duplicates += len(ids) - 1
			}
			r.delivered++
			if pid := ps[i].PlatformID; ps[i].Status == digest.OutboxSent && !slices.Contains(ids, atoi(pid)) {
				tb.Errorf("chat %s: part %d marked sent as message %s, which is none of its arrivals %v", id, i+1, pid, ids)
			}
		}
	}
	return r
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// openSQLite opens the SQLite store at path for the test's checks.
func openSQLite(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// telegramEnv is the environment of a daemon on dbPath talking to fake.
func telegramEnv(dbPath string, fake *telegramtest.Server, httpAddr string) []string {
	env := []string{
		"HERALD_DATABASE=" + dbPath,
		"HERALD_TELEGRAM_TOKEN=" + fake.Token,
		"HERALD_TELEGRAM_API_URL=" + fake.URL(),
		"HERALD_FETCH_ALLOW_PRIVATE=1",
		"HERALD_LOG_FORMAT=json",
	}
	if httpAddr != "" {
		env = append(env, "HERALD_HTTP_ADDR="+httpAddr)
	}
	return env
}

// harborFeed is an RSS feed of three unrelated local stories published in
// the hour before now.
func harborFeed(now time.Time) string {
	items := []struct{ slug, title, text string }{
		{"ferry", "Ferry service to the islands resumes", "The island ferry sailed again on Monday after three days of cancellations caused by high winds."},
		{"bridge", "Council votes to repair the swing bridge", "Councillors approved 2.4 million for repairs to the 1902 swing bridge, closed to traffic since May."},
		{"strike", "Port workers announce a 48-hour strike", "Dock workers will walk out on Thursday over pay, the union said, halting container traffic."},
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Harbor Post</title><link>https://harbor.example/</link>`)
	for i, it := range items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://harbor.example/%s</link><guid>https://harbor.example/%s</guid><description>%s</description><pubDate>%s</pubDate></item>`,
			it.title, it.slug, it.slug, it.text, now.Add(-time.Duration(10+i*20)*time.Minute).UTC().Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts herald run as a process")
	}
	const (
		admin  = 10
		member = 20
		reader = 40 // has a scheduled digest due at start
		group  = int64(-1001)
	)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "herald.db")
	feeds := newFeedServer(t)
	harbor := feeds.raw("/harbor.xml", "application/rss+xml", harborFeed(time.Now()))
	broken := feeds.raw("/broken.xml", "", "STATUS 500")
	for _, u := range []string{harbor, broken} {
		mustRun(t, map[string]string{"HERALD_DATABASE": dbPath, "HERALD_FETCH_ALLOW_PRIVATE": "1"}, "feeds", "add", "--no-fetch", u)
	}

	fake := telegramtest.NewServer(t)
	fake.WaitTimeout = 20 * time.Second
	fake.AddUser(admin, "Ada", "ada")
	fake.AddUser(member, "Bob", "bob")
	fake.AddChat(telegramtest.Chat{ID: group, Type: "supergroup", Title: "Team"})
	fake.SetMember(group, admin, telegramtest.StatusAdministrator)
	fake.SetMember(group, member, telegramtest.StatusMember)
	sd := seedScheduled(t, openSQLite(t, dbPath), fake, seedConfig{chats: 1, events: 3, minStories: 3, maxStories: 3, summary: 120, seed: 1})
	// Telegram is down for the first getMe: /readyz must say so.
	fake.FailNext("getMe", http.StatusBadGateway, "Bad Gateway")

	addr := freeAddr(t)
	env := append(telegramEnv(dbPath, fake, addr), "HERALD_LOG_LEVEL=debug")
	d := startDaemon(t, "", dir, env)
	defer func() { checkLogs(t, d.logs.String(), fake.Token) }()
	base := "http://" + addr

	waitFor(t, d, 20*time.Second, "/healthz to answer 200", func() bool { code, _ := get(base + "/healthz"); return code == http.StatusOK })
	connected := func() bool {
		for _, c := range fake.Calls("getMe") {
			if c.Code == http.StatusOK {
				return true
			}
		}
		return false
	}
	code, body := get(base + "/readyz")
	switch {
	case !connected() && code != http.StatusServiceUnavailable:
		t.Errorf("/readyz answered %d %q before herald reached Telegram; want 503", code, body)
	case !connected() && !strings.Contains(body, "telegram"):
		t.Errorf("/readyz body %q does not say which adapter is not connected", body)
	case connected():
		t.Log("herald reached Telegram before /readyz was asked; its 503 was not checked")
	}
	waitFor(t, d, 20*time.Second, "/readyz to answer 200", func() bool { code, _ := get(base + "/readyz"); return code == http.StatusOK })
	if r := heraldProcess(t, dir, env, "healthcheck"); r.code != 0 {
		t.Errorf("herald healthcheck against the running daemon: exit %d: %s", r.code, r.stderr)
	} else {
		checkLogs(t, r.stdout+r.stderr, fake.Token)
	}

	// The scheduled digest owed at start arrives.
	got := fake.WaitSent(sd.chats[0], 1)
	if !strings.Contains(got[0].Text, "Herald digest") || !strings.Contains(got[0].Text, "Event ") {
		t.Errorf("scheduled digest:\n%s", got[0].Text)
	}
	// The poller fetched both feeds added before the start.
	waitFor(t, d, 20*time.Second, "the poller to fetch both feeds", func() bool {
		m := scrape(t, addr)
		return m["herald_feeds{state=\"new\"}"] == 0 && m["herald_feeds{state=\"failing\"}"] == 1
	})

	// An administrator subscribes the group to the fetched feed.
	fake.SendText(group, admin, "/subscribe@herald_test_bot "+harbor)
	got = fake.WaitSent(group, 1)
	if !strings.Contains(got[0].Text, "Subscribed to Harbor Post (3 articles).") {
		t.Errorf("/subscribe reply:\n%s", got[0].Text)
	}
	// A member asks for a digest; Telegram answers the first send with
	// 429, so the reply waits in the outbox.
	fake.RateLimit(group, 2, 1)
	fake.SendText(group, member, "/digest")
	limited := func() bool {
		for _, c := range fake.Calls("sendMessage") {
			if c.ChatID == group && c.Code == http.StatusTooManyRequests {
				return true
			}
		}
		return false
	}
	waitFor(t, d, 20*time.Second, "the 429 answer", limited)
	during := scrape(t, addr)
	if len(fake.Sent(group)) == 1 {
		// Still inside the retry_after: the reply waits in the outbox.
		if v := during.get(t, "herald_outbox_depth", "platform", "telegram"); v != 1 {
			t.Errorf("herald_outbox_depth during the retry_after = %v, want 1", v)
		}
	} else {
		t.Log("the reply went out before /metrics was read; herald_outbox_depth during the retry_after was not checked")
	}
	got = fake.WaitSent(group, 2)
	for _, want := range []string{"Herald digest", "Ferry service to the islands resumes", "Council votes to repair the swing bridge", "Port workers announce a 48-hour strike"} {
		if !strings.Contains(got[1].Text, want) {
			t.Errorf("/digest reply lacks %q:\n%s", want, got[1].Text)
		}
	}

	// The fake shows a message as soon as it answers; the outbox marks
	// it sent (and counts it) a moment later.
	var m metricsText
	waitFor(t, d, 20*time.Second, "every message to be marked sent", func() bool {
		m = scrape(t, addr)
		return m[`herald_messages_sent_total{kind="reply",platform="telegram"}`] >= 2 &&
			m[`herald_messages_sent_total{kind="digest",platform="telegram"}`] >= 1
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"herald_feeds", []string{"state", "ok"}, float64(len(sd.feeds) + 1)},
		{"herald_feeds", []string{"state", "failing"}, 1},
		{"herald_feeds", []string{"state", "new"}, 0},
		{"herald_fetch_duration_seconds_count", []string{"outcome", "ok"}, 1},
		{"herald_fetch_duration_seconds_count", []string{"outcome", "failed"}, 1},
		{"herald_articles_ingested_total", nil, 3},
		{"herald_digests_enqueued_total", []string{"platform", "telegram"}, 1},
		{"herald_messages_sent_total", []string{"kind", "digest", "platform", "telegram"}, 1},
		{"herald_messages_sent_total", []string{"kind", "reply", "platform", "telegram"}, 2},
		{"herald_send_retries_total", []string{"platform", "telegram"}, 1},
		{"herald_rate_limited_total", []string{"platform", "telegram"}, 1},
		{"herald_outbox_depth", []string{"platform", "telegram"}, 0},
		{"herald_outbox_failed", []string{"platform", "telegram"}, 0},
		{"herald_command_duration_seconds_count", []string{"command", "subscribe", "platform", "telegram"}, 1},
		{"herald_command_duration_seconds_count", []string{"command", "digest", "platform", "telegram"}, 1},
		{"herald_replicas", nil, 1},
	} {
		if v := m.get(t, c.name, c.labels...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if v := m.get(t, "herald_stories_recent"); v < 3+1 {
		t.Errorf("herald_stories_recent = %v, want at least 4 (3 seeded events and the fetched feed's stories)", v)
	}
	if v := m.get(t, "herald_fetch_duration_seconds_sum", "outcome", "ok"); v <= 0 {
		t.Errorf("herald_fetch_duration_seconds_sum{outcome=ok} = %v, want > 0", v)
	}

	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		_, body := get(base + path)
		checkLogs(t, body, fake.Token)
	}

	// Nothing is in flight: exit well within the 10s shutdown grace.
	code, took := d.terminate(5 * time.Second)
	t.Logf("herald run exited %d, %s after SIGTERM", code, took.Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0; log:\n%s", code, d.logs)
	}
	if !strings.Contains(d.logs.String(), `"msg":"herald stopped"`) {
		t.Errorf("the log does not say herald stopped:\n%s", d.logs)
	}
}
