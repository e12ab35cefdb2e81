package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/sqlite"
)

// crashSeed is the seed of the crash test's random kill times and data;
// HERALD_CRASH_SEED overrides it to explore other interleavings.
const crashSeed = 20260329

// sentParts counts the digest parts marked sent in the outbox.
func sentParts(tb testing.TB, db *sqlite.DB) int {
	tb.Helper()
	msgs, err := db.ListOutbox(context.Background(), digest.OutboxFilter{Kind: "digest", Status: digest.OutboxSent})
	if err != nil {
		tb.Fatal(err)
	}
	return len(msgs)
}

// botMessages counts the messages the bot sent into the chats.
func botMessages(fake *telegramtest.Server, chats []int64) int {
	n := 0
	for _, c := range chats {
		n += len(fake.Sent(c))
	}
	return n
}

// quiesce waits until the fake has answered no request for 100ms, so
// that a request a killed process had sent is counted before the test
// looks.
func quiesce(fake *telegramtest.Server) {
	n := -1
	for {
		m := len(fake.Calls(""))
		if m == n {
			return
		}
		n = m
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRunSurvivesSIGKILL delivers 200 scheduled digests with the real
// herald run, killing it with SIGKILL at random moments 20 times and
// restarting it each time, then stopping it with SIGTERM 3 times, against
// a fake Telegram that enforces its limits. Every digest part must
// arrive, in order, and be marked sent; a part may arrive twice only when
// a kill fell between its send and its mark, so there are at most as many
// duplicates as kills, and a SIGTERM adds none.
func TestRunSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts herald run as a process 24 times")
	}
	seed := uint64(crashSeed)
	if s := os.Getenv("HERALD_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("HERALD_CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	const kills = 20
	t.Logf("seed %d (set HERALD_CRASH_SEED to try another)", seed)

	bin := fastHerald(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "herald.db")
	fake := telegramtest.NewServer(t)
	fake.EnforceLimits(telegramtest.TelegramLimits())
	db := openSQLite(t, dbPath)
	sd := seedScheduled(t, db, fake, seedConfig{
		chats: 200, groupShare: 0.3, events: 60, minStories: 3, maxStories: 30, summary: 300, seed: seed,
	})
	env := telegramEnv(dbPath, fake, "")
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))

	// firstSend waits until d sent a message (more than arrived before),
	// or there is nothing left to send.
	firstSend := func(d *daemon, arrived int) {
		t.Helper()
		waitFor(t, d, 30*time.Second, "the first message of the run", func() bool {
			return botMessages(fake, sd.chats) > arrived || allSent(t, db, sd)
		})
	}

	var logs strings.Builder
	midDelivery := 0
	// extra is how many more messages arrived than parts are marked
	// sent: a kill between a send and its mark adds one, which the
	// restart turns into a duplicate; it must never add more.
	extra := 0
	for i := range kills {
		sentBefore := sentParts(t, db)
		arrivedBefore := botMessages(fake, sd.chats)
		d := startDaemon(t, bin, dir, env)
		// A third of the kills come at a random moment in the 1.5s
		// after the start, which may fall while the process starts,
		// builds digests or sends; the others at a random moment in the
		// 300ms after this process's first message arrived.
		var delay time.Duration
		mode := "after start"
		if rng.IntN(3) == 0 {
			delay = time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
			time.Sleep(delay)
		} else {
			mode = "after first send"
			firstSend(d, arrivedBefore)
			delay = time.Duration(rng.Int64N(int64(300 * time.Millisecond)))
			time.Sleep(delay)
		}
		if d.exited() {
			t.Fatalf("run %d: herald run exited by itself (%v); log:\n%s", i+1, d.state, d.logs)
		}
		d.kill()
		logs.WriteString(d.logs.String())
		quiesce(fake)
		sentAfter := sentParts(t, db)
		if sentAfter > sentBefore && !allSent(t, db, sd) {
			midDelivery++
		}
		_, pending, built := outboxState(t, db, sd.slot)
		unmarked := botMessages(fake, sd.chats) - sentAfter - extra
		t.Logf("kill %2d: %-16s + %3dms: %3d digests built, parts sent %3d -> %3d, %3d pending, %d sent but not marked",
			i+1, mode, delay.Milliseconds(), built, sentBefore, sentAfter, pending, unmarked)
		if unmarked > 1 {
			t.Errorf("kill %d left %d parts sent but not marked sent; the outbox sends one at a time, so at most 1", i+1, unmarked)
		}
		extra += unmarked
	}

	// Graceful stops: on SIGTERM the send in flight finishes and is
	// marked, so a stop repeats nothing. Each Bot API call takes 200ms
	// here, so that a SIGTERM finds a send in flight.
	slow := append(env[:len(env):len(env)], "HERALD_TELEGRAM_API_URL="+delayed(t, fake.URL(), 200*time.Millisecond))
	const stops = 3
	for i := range stops {
		arrivedBefore := botMessages(fake, sd.chats)
		d := startDaemon(t, bin, dir, slow)
		firstSend(d, arrivedBefore)
		delay := time.Duration(rng.Int64N(int64(300 * time.Millisecond)))
		time.Sleep(delay)
		code, took := d.terminate(15 * time.Second)
		logs.WriteString(d.logs.String())
		quiesce(fake)
		unmarked := botMessages(fake, sd.chats) - sentParts(t, db) - extra
		t.Logf("stop %d: SIGTERM %3dms after the first send: exit %d after %s, %d sent but not marked",
			i+1, delay.Milliseconds(), code, took.Round(time.Millisecond), unmarked)
		if code != 0 {
			t.Errorf("stop %d: exit code after SIGTERM = %d, want 0", i+1, code)
		}
		if unmarked != 0 {
			t.Errorf("stop %d: SIGTERM left %d parts sent but not marked sent; they will repeat", i+1, unmarked)
		}
		extra += unmarked
	}

	d := startDaemon(t, bin, dir, env)
	waitAllSent(t, db, sd, 90*time.Second, d)
	code, took := d.terminate(10 * time.Second)
	logs.WriteString(d.logs.String())
	if code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	checkLogs(t, logs.String(), fake.Token)

	r := checkDelivery(t, fake, db, sd)
	t.Logf("%d digests in %d parts: %d delivered, %d marked sent, %d duplicates after %d kills (%d of them mid-delivery); "+
		"Telegram answered 429 %d times, most attempts of one part %d; last run exited %s after SIGTERM",
		len(sd.chats), r.parts, r.delivered, r.sent, r.duplicates, kills, midDelivery, fake.Throttled(), r.maxAttempts, took.Round(time.Millisecond))
	if r.duplicates > kills {
		t.Errorf("%d duplicate parts after %d kills: more than one per kill", r.duplicates, kills)
	}
	if r.duplicates != extra {
		t.Errorf("%d duplicates, but the kills left %d parts sent and not marked: a part repeated without a kill between its send and its mark", r.duplicates, extra)
	}
	// The test is about kills while digests go out; make sure most were.
	if midDelivery < kills/2 {
		t.Errorf("only %d of %d kills fell while parts were being sent", midDelivery, kills)
	}
	if t.Failed() {
		t.Logf("logs of every run:\n%s", logs.String())
	}
}
