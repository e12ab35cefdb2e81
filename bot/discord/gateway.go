package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opResume         = 6
	opReconnect      = 7
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatACK   = 11
)

// gatewayVersion is the gateway API version, the same as the REST base's.
const gatewayVersion = "10"

// Time-outs of the gateway connection.
const (
	dialTimeout      = 15 * time.Second
	helloTimeout     = 15 * time.Second
	writeTimeout     = 10 * time.Second
	identifyInterval = 5 * time.Second // Discord allows one identify per 5 s
	maxBackoff       = 2 * time.Minute
)

// gateway is a client of Discord's gateway: it identifies (with the
// shard from the configuration), heartbeats, and on a lost connection,
// a Reconnect or a zombied connection resumes the session on
// resume_gateway_url, so that no event is missed; it identifies afresh
// only when the session is gone. It stops when its context ends, closing
// the connection.
//
// It is written here rather than taken from discordgo, whose Session
// fetches the gateway URL from GET /gateway instead of /gateway/bot,
// ignores resume_gateway_url and the identify rate, cannot be stopped
// while it reconnects (its reconnect loop has no owner) and sleeps a
// second holding its lock on every close.
type gateway struct {
	api     *restClient
	token   string
	intents discordgo.Intent
	shard   [2]int
	log     *slog.Logger
	dialer  *websocket.Dialer

	// onDispatch receives every dispatch (READY and RESUMED included),
	// in order, on the reading goroutine: it must not block for long.
	onDispatch func(typ string, data json.RawMessage)
	// onDisconnect, if set, is called whenever a connection ends.
	onDisconnect func()

	// identifyEvery is the least time between two identifies (Discord
	// allows one per 5 seconds) and invalidWait the wait after an invalid
	// session (Discord asks for 1 to 5 seconds); tests shorten them.
	identifyEvery time.Duration
	invalidWait   func() time.Duration
	// stableAfter is how long a connection must last for its end to
	// reset the back-off: 30s.
	stableAfter time.Duration

	mu           sync.Mutex
	sessionID    string
	resumeURL    string
	seq          int64 // last sequence number received; 0 for none
	lastIdentify time.Time
}

// fatalError is a gateway failure that retrying cannot fix.
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

// fatalCloseCodes are the close codes after which Discord does not let a
// client reconnect: the configuration is wrong.
var fatalCloseCodes = map[int]string{
	4004: "the bot token was refused (authentication failed)",
	4010: "invalid shard: check the shard id and count",
	4011: "sharding required: the bot is in too many guilds for one shard; set a shard count",
	4012: "invalid API version",
	4013: "invalid intents",
	4014: "disallowed intents: an intent is not enabled for this application",
}

// sessionLostCodes end the session: the client must identify again.
var sessionLostCodes = map[int]bool{4007: true, 4009: true}

// run connects and keeps the session alive until ctx ends (it then
// returns nil) or a fatal error.
func (g *gateway) run(ctx context.Context) error {
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		started := time.Now()
		established, err := g.connect(ctx)
		if g.onDisconnect != nil {
			g.onDisconnect()
		}
		if ctx.Err() != nil {
			return nil
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return err
		}
		wait := time.Duration(0)
		var inv *invalidSession
		switch {
		case errors.As(err, &inv):
			wait = g.invalidSessionWait()
		case errors.Is(err, errReconnect):
			// Discord asked: reconnect at once.
		case established && time.Since(started) >= g.stable():
			failures = 0
		default:
			// A connection that failed, or did not last, backs off so
			// that a gateway dropping every connection is not hammered.
			failures++
			wait = backoff(failures)
		}
		if err != nil {
			lvl := slog.LevelInfo
			if failures > 1 {
				lvl = slog.LevelWarn
			}
			g.log.Log(ctx, lvl, "gateway connection ended; reconnecting", "err", err, "retry_in", wait, "resume", g.resumable())
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// backoff is the wait before reconnect attempt n (n >= 1) after failed
// ones: exponential from one second, capped, with jitter (half to all
// of it).
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 10)
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// stable returns how long a connection must last for the next failure to
// count as the first.
func (g *gateway) stable() time.Duration {
	if g.stableAfter > 0 {
		return g.stableAfter
	}
	return 30 * time.Second
}

func (g *gateway) invalidSessionWait() time.Duration {
	if g.invalidWait != nil {
		return g.invalidWait()
	}
	return time.Second + rand.N(4*time.Second)
}

func (g *gateway) resumable() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessionID != "" && g.resumeURL != ""
}

func (g *gateway) forgetSession() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sessionID, g.resumeURL, g.seq = "", "", 0
}

// invalidSession is op 9: the session cannot be resumed (or, when
// resumable, may be).
type invalidSession struct{ resumable bool }

func (e *invalidSession) Error() string {
	return fmt.Sprintf("invalid session (resumable: %v)", e.resumable)
}

// errReconnect is op 7: Discord asks the client to reconnect and resume.
var errReconnect = errors.New("discord asked to reconnect")

// gatewayBot is GET /gateway/bot's answer.
type gatewayBot struct {
	URL               string `json:"url"`
	Shards            int    `json:"shards"`
	SessionStartLimit struct {
		Total          int   `json:"total"`
		Remaining      int   `json:"remaining"`
		ResetAfter     int64 `json:"reset_after"` // milliseconds
		MaxConcurrency int   `json:"max_concurrency"`
	} `json:"session_start_limit"`
}

// identifyURL returns the URL to identify on, from GET /gateway/bot,
// waiting when the daily session start limit is used up.
func (g *gateway) identifyURL(ctx context.Context) (string, error) {
	var gb gatewayBot
	err := g.api.do(ctx, call{method: "GET", route: "GET /gateway/bot", path: "/gateway/bot", bot: true}, &gb)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			return "", &fatalError{"discord: the bot token was refused (401 on GET /gateway/bot)"}
		}
		return "", err
	}
	if gb.URL == "" {
		return "", errors.New("discord GET /gateway/bot: no url in the answer")
	}
	if gb.SessionStartLimit.Total > 0 && gb.SessionStartLimit.Remaining <= 0 {
		wait := time.Duration(gb.SessionStartLimit.ResetAfter) * time.Millisecond
		g.log.Warn("gateway session start limit used up; waiting", "retry_in", wait)
		if !sleep(ctx, wait) {
			return "", ctx.Err()
		}
	}
	if gb.Shards > 0 && g.shard[1] < gb.Shards {
		g.log.Warn("Discord recommends more shards than configured", "recommended", gb.Shards, "shard_count", g.shard[1])
	}
	return gb.URL, nil
}

// wsURL adds the version and encoding to a gateway URL.
func wsURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || u.Host == "" {
		return "", fmt.Errorf("discord gateway url %q is not a websocket URL", base)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	q := u.Query()
	q.Set("v", gatewayVersion)
	q.Set("encoding", "json")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// conn is one gateway connection.
type conn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

func (c *conn) send(op int, d any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteJSON(map[string]any{"op": op, "d": d})
}

// close sends a close frame with code and closes the connection. Codes
// other than 1000 and 1001 keep the session resumable.
func (c *conn) close(code int) {
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.ws.Close()
}

// frame is a gateway payload.
type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s"`
	T  string          `json:"t"`
}

// connect runs one connection until it ends. established reports whether
// the session got going (READY or RESUMED), which resets the back-off.
func (g *gateway) connect(ctx context.Context) (established bool, err error) {
	g.mu.Lock()
	resume := g.sessionID != "" && g.resumeURL != ""
	target := g.resumeURL
	g.mu.Unlock()
	if !resume {
		if target, err = g.identifyURL(ctx); err != nil {
			return false, err
		}
		every := g.identifyEvery
		if every <= 0 {
			every = identifyInterval
		}
		g.mu.Lock()
		wait := time.Until(g.lastIdentify.Add(every))
		g.mu.Unlock()
		if !sleep(ctx, wait) {
			return false, ctx.Err()
		}
	}
	u, err := wsURL(target)
	if err != nil {
		return false, err
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	ws, _, err := g.dialer.DialContext(dctx, u, nil)
	cancel()
	if err != nil {
		// The session stays: if it has expired meanwhile, the resume is
		// answered with op 9 and the next attempt identifies.
		return false, fmt.Errorf("dial gateway: %w", scrub(err))
	}
	c := &conn{ws: ws}
	// Closing the connection is what stops the reading below.
	var closeCode int
	stop := context.AfterFunc(ctx, func() { c.close(websocket.CloseNormalClosure) })
	defer func() {
		if stop() {
			if closeCode == 0 {
				closeCode = 4000 // keeps the session resumable
			}
			c.close(closeCode)
		}
	}()

	ws.SetReadDeadline(time.Now().Add(helloTimeout))
	var hello struct {
		HeartbeatInterval int64 `json:"heartbeat_interval"`
	}
	f, err := readFrame(ws)
	if err != nil {
		return false, fmt.Errorf("read hello: %w", err)
	}
	if f.Op != opHello || json.Unmarshal(f.D, &hello) != nil || hello.HeartbeatInterval <= 0 {
		return false, fmt.Errorf("expected hello (op 10), got op %d", f.Op)
	}
	ws.SetReadDeadline(time.Time{})
	interval := time.Duration(hello.HeartbeatInterval) * time.Millisecond

	if resume {
		g.mu.Lock()
		d := map[string]any{"token": g.token, "session_id": g.sessionID, "seq": g.seq}
		g.mu.Unlock()
		err = c.send(opResume, d)
	} else {
		g.mu.Lock()
		g.lastIdentify = time.Now()
		g.mu.Unlock()
		d := map[string]any{
			"token":   g.token,
			"intents": g.intents,
			"properties": map[string]string{
				"os": runtime.GOOS, "browser": "herald", "device": "herald",
			},
			"shard": []int{g.shard[0], g.shard[1]},
		}
		err = c.send(opIdentify, d)
	}
	if err != nil {
		return false, fmt.Errorf("send identify or resume: %w", err)
	}

	// The heartbeat goroutine belongs to this connection: it ends when
	// the connection does, and connect waits for it.
	var acked sync.Mutex
	awaitingAck := false
	hbDone := make(chan struct{})
	connDone := make(chan struct{})
	zombie := make(chan struct{}, 1)
	go func() {
		defer close(hbDone)
		// The first heartbeat goes after interval × jitter, as Discord asks.
		t := time.NewTimer(time.Duration(rand.Float64() * float64(interval)))
		defer t.Stop()
		for {
			select {
			case <-connDone:
				return
			case <-t.C:
			}
			acked.Lock()
			missed := awaitingAck
			awaitingAck = true
			acked.Unlock()
			if missed {
				zombie <- struct{}{}
				ws.Close() // ends the reading; the session is resumed
				return
			}
			if c.send(opHeartbeat, g.lastSeq()) != nil {
				ws.Close()
				return
			}
			t.Reset(interval)
		}
	}()
	defer func() {
		close(connDone)
		<-hbDone
	}()

	for {
		f, err := readFrame(ws)
		if err != nil {
			select {
			case <-zombie:
				return established, errors.New("no heartbeat ACK: the connection is a zombie")
			default:
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if msg, ok := fatalCloseCodes[ce.Code]; ok {
					closeCode = websocket.CloseNormalClosure
					return established, &fatalError{fmt.Sprintf("discord gateway closed with %d: %s", ce.Code, msg)}
				}
				if sessionLostCodes[ce.Code] {
					g.forgetSession()
				}
				return established, fmt.Errorf("gateway closed with %d %s", ce.Code, ce.Text)
			}
			return established, fmt.Errorf("read gateway: %w", err)
		}
		switch f.Op {
		case opDispatch:
			if f.S != nil {
				g.mu.Lock()
				g.seq = *f.S
				g.mu.Unlock()
			}
			switch f.T {
			case "READY":
				var r struct {
					SessionID        string `json:"session_id"`
					ResumeGatewayURL string `json:"resume_gateway_url"`
				}
				if err := json.Unmarshal(f.D, &r); err != nil || r.SessionID == "" {
					return established, errors.New("READY without a session id")
				}
				g.mu.Lock()
				g.sessionID, g.resumeURL = r.SessionID, r.ResumeGatewayURL
				g.mu.Unlock()
				established = true
				g.log.Info("gateway session ready", "shard_id", g.shard[0], "shard_count", g.shard[1])
			case "RESUMED":
				established = true
				g.log.Info("gateway session resumed")
			}
			g.onDispatch(f.T, f.D)
		case opHeartbeat:
			if err := c.send(opHeartbeat, g.lastSeq()); err != nil {
				return established, fmt.Errorf("send heartbeat: %w", err)
			}
		case opHeartbeatACK:
			acked.Lock()
			awaitingAck = false
			acked.Unlock()
		case opReconnect:
			return established, errReconnect
		case opInvalidSession:
			var resumable bool
			json.Unmarshal(f.D, &resumable)
			if !resumable {
				g.forgetSession()
				closeCode = websocket.CloseNormalClosure
			}
			return established, &invalidSession{resumable: resumable}
		}
	}
}

func (g *gateway) lastSeq() any {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seq == 0 {
		return nil
	}
	return g.seq
}

func readFrame(ws *websocket.Conn) (frame, error) {
	var f frame
	_, data, err := ws.ReadMessage()
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("decode gateway payload: %w", err)
	}
	return f, nil
}
