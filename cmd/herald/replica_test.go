package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-c50b6fda/herald/bot/discord/discordtest"
	"github.com/seed-c50b6fda/herald/bot/telegram/telegramtest"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/store/postgres"
)

// replicaLease is the lease time of the replica tests: how long a killed
// replica's work waits before another takes it over.
const replicaLease = 3 * time.Second

// replicaEnv is the environment of one of several replicas on the database
// at dsn, sending to fake. They receive Telegram updates by webhook, as
// replicas behind a load balancer do; listen is this replica's address.
func replicaEnv(dsn string, fake *telegramtest.Server, listen string) []string {
	return []string{
		"HERALD_DATABASE=" + dsn,
		"HERALD_TELEGRAM_TOKEN=" + fake.Token,
		"HERALD_TELEGRAM_API_URL=" + fake.URL(),
		"HERALD_TELEGRAM_WEBHOOK_URL=https://herald.example/telegram",
		"HERALD_TELEGRAM_WEBHOOK_LISTEN=" + listen,
		"HERALD_TELEGRAM_WEBHOOK_SECRET=replica-test-secret-0123",
		"HERALD_REPLICAS_LEASE=" + replicaLease.String(),
		"HERALD_LOG_FORMAT=json",
	}
}

// replicaOwner reads a replica's lease owner name from its start log line.
func replicaOwner(tb testing.TB, d *daemon) string {
	tb.Helper()
	var owner string
	waitFor(tb, d, 20*time.Second, "the replica's start line", func() bool {
		for line := range strings.SplitSeq(d.logs.String(), "\n") {
			var l struct {
				Msg     string `json:"msg"`
				Replica string `json:"replica"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "herald running" && l.Replica != "" {
				owner = l.Replica
				return true
			}
		}
		return false
	})
	return owner
}

// heldLeases lists the unexpired leases of owner whose names start with
// prefix.
func heldLeases(tb testing.TB, dsn, owner, prefix string) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT name FROM leases WHERE owner = $1 AND starts_with(name, $2) AND expires_at > now() ORDER BY name`, owner, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	return names
}

// addDailySubscriptions adds n private chats, each subscribed to feeds with
// a daily schedule at slot (UTC) and its last digest at since, so that the
// digests of all n fall due in the same minute.
func addDailySubscriptions(tb testing.TB, db digest.Store, fake *telegramtest.Server, feeds []int64, n int, firstChat int64, since, slot time.Time) seeded {
	tb.Helper()
	ctx := context.Background()
	out := seeded{slot: slot, feeds: feeds}
	for i := range n {
		id := firstChat + int64(i)
		fake.AddUser(id, fmt.Sprintf("Reader %d", id), "")
		fake.AddPrivateChat(id)
		chat := &digest.Chat{Platform: digest.PlatformTelegram, ID: strconv.FormatInt(id, 10), Kind: "private", CreatedAt: since}
		if err := db.UpsertChat(ctx, chat); err != nil {
			tb.Fatal(err)
		}
		sub := &digest.Subscription{
			Platform: digest.PlatformTelegram, ChatID: chat.ID, FeedIDs: feeds,
			Schedule: fmt.Sprintf("%d %d * * *", slot.Minute(), slot.Hour()), TimeZone: "UTC", Limit: 3,
			LastDigestAt: since, CreatedAt: since,
		}
		if err := db.CreateSubscription(ctx, sub); err != nil {
			tb.Fatal(err)
		}
		out.chats = append(out.chats, id)
	}
	return out
}

// TestReplicasOnPostgres runs three `herald run` processes on one
// PostgreSQL database. First 300 subscriptions owe a digest at start: each
// is built once and arrives exactly once, the replicas sharing the work.
// Then 300 more fall due in the same minute, and one replica is killed
// with SIGKILL while it sends: the other two finish its work once its
// claims expire, and nothing is lost. A kill between a send and its mark
// may repeat that one message, never more.
func TestReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three herald run processes on PostgreSQL")
	}
	dsn := freshDatabase(t, "")
	bin := fastHerald(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fake := telegramtest.NewServer(t)
	fake.EnforceLimits(telegramtest.TelegramLimits())

	const chats = 300
	first := seedScheduled(t, db, fake, seedConfig{
		chats: chats, groupShare: 0.3, events: 40, minStories: 2, maxStories: 3, summary: 100, seed: 10,
	})

	var ds []*daemon
	for range 3 {
		ds = append(ds, startDaemon(t, bin, t.TempDir(), replicaEnv(dsn, fake, freeAddr(t))))
	}
	var logs strings.Builder
	defer func() {
		for _, d := range ds {
			logs.WriteString(d.logs.String())
		}
		checkLogs(t, logs.String(), fake.Token)
	}()
	owners := make([]string, len(ds))
	for i, d := range ds {
		owners[i] = replicaOwner(t, d)
	}

	// Phase 1: 300 digests due at start, three replicas.
	start := time.Now()
	waitAllSent(t, db, first, 120*time.Second, ds...)
	r := checkDelivery(t, fake, db, first)
	t.Logf("phase 1: %d digests in %d parts sent by 3 replicas in %s, %d duplicates, %d 429s",
		len(first.chats), r.parts, time.Since(start).Round(time.Millisecond), r.duplicates, fake.Throttled())
	if r.duplicates != 0 {
		t.Errorf("%d messages arrived twice without a crash; every digest must arrive exactly once", r.duplicates)
	}
	for i, d := range ds {
		built := strings.Count(d.logs.String(), `"msg":"digest enqueued"`)
		t.Logf("replica %d (%s) built %d of the digests", i, owners[i], built)
	}

	// Phase 2: 300 subscriptions added now, due at the first minute at
	// least 10s away (the replicas list subscriptions again every lease
	// time); replica 0 dies while it holds chats it is sending to.
	second := time.Now().Add(10 * time.Second).Truncate(time.Minute).Add(time.Minute).UTC()
	next := addDailySubscriptions(t, db, fake, first.feeds, chats, 7_000_000, first.slot.Add(-15*time.Minute), second)
	if wait := time.Until(second); wait > 0 {
		t.Logf("waiting %s for the second batch's minute", wait.Round(time.Second))
	}
	var held []string
	waitFor(t, ds[0], time.Until(second)+60*time.Second, "replica 0 sending the second batch", func() bool {
		if botMessages(fake, next.chats) < chats/5 {
			return false
		}
		held = heldLeases(t, dsn, owners[0], "outbox/")
		return len(held) > 0
	})
	sentBefore := botMessages(fake, next.chats)
	digestClaims := heldLeases(t, dsn, owners[0], "digest/")
	ds[0].kill()
	killed := time.Now()
	t.Logf("killed replica 0 with SIGKILL after %d of %d messages of the second batch arrived; it held %d chats and %d digest slots",
		sentBefore, chats, len(held), len(digestClaims))

	waitAllSent(t, db, next, 120*time.Second, ds[1:]...)
	done := time.Since(killed)
	r = checkDelivery(t, fake, db, next)
	// Takeover: when the chats the dead replica held got their next
	// message from another replica.
	var takeover time.Duration
	for _, name := range held {
		chat, err := strconv.ParseInt(name[strings.LastIndex(name, "/")+1:], 10, 64)
		if err != nil || !slices.Contains(next.chats, chat) {
			continue
		}
		for _, m := range fake.Sent(chat) {
			if m.Date.After(killed) {
				takeover = max(takeover, m.Date.Sub(killed))
				break
			}
		}
	}
	t.Logf("phase 2: %d digests in %d parts, %d delivered, %d marked sent, %d duplicates; the dead replica's chats were taken over "+
		"within %s of the kill (lease %s); all sent %s after the kill",
		len(next.chats), r.parts, r.delivered, r.sent, r.duplicates, takeover.Round(time.Millisecond), replicaLease, done.Round(time.Millisecond))
	if r.duplicates > 1 {
		t.Errorf("%d messages arrived twice after one kill; at most the one in flight may repeat", r.duplicates)
	}
	if takeover > 4*replicaLease {
		t.Errorf("the dead replica's chats waited %s; want about one lease time (%s)", takeover, replicaLease)
	}

	for i, d := range ds[1:] {
		if code, _ := d.terminate(15 * time.Second); code != 0 {
			t.Errorf("replica %d: exit code after SIGTERM = %d, want 0", i+1, code)
		}
	}
	if t.Failed() {
		for i, d := range ds {
			t.Logf("replica %d log:\n%s", i, d.logs)
		}
	}
}

// TestSecondPollingReplicaFailsFast starts two replicas that would both
// receive Telegram updates by long polling: the second must stop at once
// with a message that says what to do, and the first go on.
func TestSecondPollingReplicaFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts herald run as a process")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "herald.db")
	fake := telegramtest.NewServer(t)
	env := append(telegramEnv(dbPath, fake, ""), "HERALD_REPLICAS_LEASE=2s")
	first := startDaemon(t, "", dir, env)
	waitFor(t, first, 20*time.Second, "the first replica to poll", func() bool {
		return strings.Contains(first.logs.String(), "receiving updates by long polling")
	})

	second := startDaemon(t, "", dir, env)
	select {
	case <-second.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the second polling replica kept running; log:\n%s", second.logs)
	}
	if code := second.state.ExitCode(); code != 1 {
		t.Errorf("second replica exit code = %d, want 1", code)
	}
	for _, want := range []string{"another replica", "long polling", "HERALD_TELEGRAM_WEBHOOK_URL"} {
		if !strings.Contains(second.logs.String(), want) {
			t.Errorf("the second replica's message does not say %q; log:\n%s", want, second.logs)
		}
	}
	took := time.Since(second.started)
	t.Logf("the second replica stopped %s after it started", took.Round(time.Millisecond))
	if first.exited() {
		t.Fatalf("the first replica stopped too; log:\n%s", first.logs)
	}
	if code, _ := first.terminate(10 * time.Second); code != 0 {
		t.Errorf("first replica exit code after SIGTERM = %d, want 0", code)
	}
	checkLogs(t, first.logs.String()+second.logs.String(), fake.Token)
}

// TestDiscordGatewayStandby starts two replicas with the same Discord bot:
// one holds the gateway while the other stands by, and when the holder is
// killed with SIGKILL the other connects within about one lease time.
func TestDiscordGatewayStandby(t *testing.T) {
	if testing.Short() {
		t.Skip("starts herald run as a process")
	}
	const lease = 2 * time.Second
	dir := t.TempDir()
	fake := discordtest.New(t, discordtest.Options{})
	env := []string{
		"HERALD_DATABASE=" + filepath.Join(dir, "herald.db"),
		"HERALD_DISCORD_TOKEN=" + fake.Token,
		"HERALD_DISCORD_API_URL=" + fake.URL,
		"HERALD_REPLICAS_LEASE=" + lease.String(),
		"HERALD_LOG_FORMAT=json",
	}
	holder := startDaemon(t, "", dir, env)
	waitFor(t, holder, 20*time.Second, "the first replica to identify", func() bool { return len(fake.Identifies()) == 1 })
	standby := startDaemon(t, "", dir, env)
	waitFor(t, standby, 20*time.Second, "the second replica to stand by", func() bool {
		return strings.Contains(standby.logs.String(), "standing by")
	})
	time.Sleep(2 * lease) // long enough for a wrongly started second gateway to show
	if n := len(fake.Identifies()); n != 1 {
		t.Fatalf("%d gateway identifies with one replica standing by; want 1", n)
	}
	holder.kill()
	killed := time.Now()
	waitFor(t, standby, 20*time.Second, "the standby replica to take the gateway over", func() bool {
		return len(fake.Identifies()) == 2 && fake.Connected()
	})
	took := time.Since(killed)
	t.Logf("the standby replica identified %s after the holder was killed (lease %s)", took.Round(time.Millisecond), lease)
	if took > 3*lease {
		t.Errorf("takeover took %s; want about one lease time (%s)", took, lease)
	}
	if code, _ := standby.terminate(10 * time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	checkLogs(t, holder.logs.String()+standby.logs.String(), fake.Token)
}

// TestDiscordShardCountsMustAgree: a replica configured for another shard
// count than one already connected refuses to connect, saying why.
func TestDiscordShardCountsMustAgree(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t, filepath.Join(t.TempDir(), "herald.db"))
	if ok, err := st.AcquireLease(ctx, discordGatewayLease+"0-of-2", "other-replica", time.Minute); !ok || err != nil {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	a := &app{}
	leases := a.leases(st, time.Minute)
	err := checkShards(ctx, leases, 1)
	if err == nil || !strings.Contains(err.Error(), "other-replica") || !strings.Contains(err.Error(), "discord.shard_count") {
		t.Fatalf("checkShards with 1 shard while another replica runs 0 of 2 = %v; want an error naming the replica and the setting", err)
	}
	if err := checkShards(ctx, leases, 2); err != nil {
		t.Fatalf("checkShards with the same shard count: %v", err)
	}
}

// TestWebhookUpdatesAcrossReplicas checks the leases behind webhook
// updates: one replica handles an update, another asked meanwhile is told
// to let Telegram retry, and once it is done every replica knows.
func TestWebhookUpdatesAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t, filepath.Join(t.TempDir(), "herald.db"))
	replicaOf := func() webhookUpdates {
		a := &app{}
		return webhookUpdates{handling: a.leases(st, webhookHandling), handled: a.leases(st, webhookHandled)}
	}
	one, two := replicaOf(), replicaOf()
	check := func(r webhookUpdates, id int, wantHandle, wantDone bool) {
		t.Helper()
		handle, done, err := r.Begin(ctx, id)
		if err != nil || handle != wantHandle || done != wantDone {
			t.Fatalf("Begin(%d) = %v, %v, %v; want handle %v, done %v", id, handle, done, err, wantHandle, wantDone)
		}
	}
	check(one, 7, true, false)
	check(two, 7, false, false) // being handled: Telegram retries later
	check(two, 8, true, false)  // another update is free
	if err := one.Done(ctx, 7); err != nil {
		t.Fatal(err)
	}
	check(two, 7, false, true)
	check(one, 7, false, true)
	if l, err := st.FindLease(ctx, "telegram/update/7"); !digest.IsNotFound(err) {
		t.Fatalf("the handling claim of a handled update is still held: %+v, %v", l, err)
	}
}
