package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/seed-c50b6fda/herald/bot/discord/discordtest"
)

// gatewayRun is a gateway client running against a fake Discord,
// recording the events it receives.
type gatewayRun struct {
	fake *discordtest.Server
	g    *gateway
	done chan error
	stop context.CancelFunc

	mu     sync.Mutex
	events []string // "TYPE" or "TEST n"
}

func startGateway(t *testing.T, shard [2]int, opts ...func(*gateway)) *gatewayRun {
	t.Helper()
	fake := discordtest.New(t, discordtest.Options{HeartbeatInterval: 50 * time.Millisecond})
	r := &gatewayRun{fake: fake, done: make(chan error, 1)}
	r.g = &gateway{
		api:   &restClient{base: fake.URL, auth: "Bot " + fake.Token, http: http.DefaultClient, token: fake.Token},
		token: fake.Token, intents: intents, shard: shard, log: slog.New(slog.DiscardHandler), dialer: websocket.DefaultDialer,
		identifyEvery: 10 * time.Millisecond, invalidWait: func() time.Duration { return 10 * time.Millisecond },
		stableAfter: time.Millisecond,
		onDispatch: func(typ string, data json.RawMessage) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if typ == "TEST" {
				var d struct{ N int }
				json.Unmarshal(data, &d)
				typ = fmt.Sprintf("TEST %d", d.N)
			}
			r.events = append(r.events, typ)
		},
	}
	for _, o := range opts {
		o(r.g)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- r.g.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("the gateway did not stop within 5s")
		}
	})
	fake.WaitReady(t)
	// The client has a session once it has read READY.
	fake.Eventually(t, 5*time.Second, "READY read", func() bool {
		for _, e := range r.seen() {
			if e == "READY" {
				return true
			}
		}
		return false
	})
	return r
}

func (r *gatewayRun) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// send dispatches TEST events numbered from..to-1.
func (r *gatewayRun) send(t *testing.T, from, to int) {
	for n := from; n < to; n++ {
		r.fake.Dispatch(t, "TEST", map[string]int{"n": n})
	}
}

// waitTests waits for TEST 0 … TEST n-1 and checks each came once, in
// order.
func (r *gatewayRun) waitTests(t *testing.T, n int) {
	t.Helper()
	var tests []string
	r.fake.Eventually(t, 5*time.Second, fmt.Sprintf("%d test events", n), func() bool {
		tests = nil
		for _, e := range r.seen() {
			if strings.HasPrefix(e, "TEST ") {
				tests = append(tests, e)
			}
		}
		return len(tests) >= n
	})
	for i, e := range tests {
		if e != fmt.Sprintf("TEST %d", i) {
			t.Fatalf("events %v: want TEST 0 … TEST %d once each, in order", tests, n-1)
		}
	}
}

func TestGatewayResumesWithoutLosingEvents(t *testing.T) {
	t.Parallel()
	r := startGateway(t, [2]int{0, 1})
	r.send(t, 0, 5)
	r.waitTests(t, 5)
	r.fake.DropConnection()
	r.send(t, 5, 10) // while the client is away
	r.waitTests(t, 10)
	if res := r.fake.Resumes(); len(res) != 1 || !res[0].OK || res[0].Path != "/resume" {
		t.Errorf("resumes = %+v", res)
	}
	if n := len(r.fake.Identifies()); n != 1 {
		t.Errorf("%d identifies, want 1", n)
	}
}

func TestGatewayZombieConnectionResumes(t *testing.T) {
	t.Parallel()
	r := startGateway(t, [2]int{0, 1})
	r.fake.AckHeartbeats(false)
	r.fake.Eventually(t, 5*time.Second, "a resume after unacknowledged heartbeats", func() bool { return len(r.fake.Resumes()) > 0 })
	r.fake.AckHeartbeats(true)
	r.send(t, 0, 3)
	r.waitTests(t, 3)
	if n := len(r.fake.Identifies()); n != 1 {
		t.Errorf("%d identifies, want the session resumed", n)
	}
}

func TestGatewayIdentifiesWhenTheSessionIsGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		break_ func(f *discordtest.Server)
	}{
		{"session timed out (4009)", func(f *discordtest.Server) { f.CloseGateway(4009, "Session timed out.") }},
		{"invalid session (op 9)", func(f *discordtest.Server) { f.ExpireSessions(); f.DropConnection() }},
		{"reconnect asked (op 7), then resume refused", func(f *discordtest.Server) { f.ExpireSessions(); f.RequestReconnect() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startGateway(t, [2]int{2, 3})
			tc.break_(r.fake)
			r.fake.Eventually(t, 5*time.Second, "a second identify", func() bool { return len(r.fake.Identifies()) == 2 })
			r.fake.WaitReady(t)
			r.send(t, 0, 2)
			r.waitTests(t, 2)
			for _, id := range r.fake.Identifies() {
				if fmt.Sprint(id.Shard) != "[2 3]" {
					t.Errorf("identify with shard %v, want [2 3]", id.Shard)
				}
			}
		})
	}
}

func TestGatewayFatalCloseStops(t *testing.T) {
	t.Parallel()
	r := startGateway(t, [2]int{0, 1})
	r.fake.CloseGateway(4014, "Disallowed intent(s).")
	select {
	case err := <-r.done:
		var fatal *fatalError
		if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "disallowed intents") {
			t.Errorf("run = %v, want a fatal error about intents", err)
		}
		r.done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway kept reconnecting after 4014")
	}
	if n := r.fake.Connects(); n != 1 {
		t.Errorf("%d connections, want no reconnect", n)
	}
}

func TestGatewayStopsPromptly(t *testing.T) {
	t.Parallel()
	r := startGateway(t, [2]int{0, 1})
	start := time.Now()
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("run = %v after its context ended", err)
		}
		r.done <- nil
	case <-time.After(2 * time.Second):
		t.Fatal("run did not return within 2s of its context ending")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("stopping took %s", d)
	}
	r.fake.Eventually(t, time.Second, "the connection closed", func() bool { return !r.fake.Connected() })
}

// TestGatewayBacksOffFromFlappingConnections: a gateway that drops every
// connection right away is not reconnected to in a tight loop.
func TestGatewayBacksOffFromFlappingConnections(t *testing.T) {
	t.Parallel()
	r := startGateway(t, [2]int{0, 1}, func(g *gateway) { g.stableAfter = time.Hour })
	start := time.Now()
	for i := 1; i <= 2; i++ {
		r.fake.WaitReady(t)
		r.fake.DropConnection()
		r.fake.Eventually(t, 10*time.Second, "a resume", func() bool { return len(r.fake.Resumes()) >= i })
	}
	// Waits of at least 0.5s and 1s (backoff with jitter).
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("2 reconnects to a flapping gateway within %s", d)
	}
}
