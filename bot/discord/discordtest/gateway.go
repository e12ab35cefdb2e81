package discordtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

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

// Identify is what a client sent in an Identify.
type Identify struct {
	TokenOK    bool
	Intents    int
	Shard      []int // [shard_id, num_shards], nil when not sent
	Properties map[string]string
}

// Resume is what a client sent in a Resume.
type Resume struct {
	SessionID string
	Seq       int64
	// Path is the websocket path it resumed on: "/resume" for the
	// resume_gateway_url READY gave, "/gateway" for the ordinary one.
	Path string
	OK   bool // the session was resumed (else: Invalid Session)
}

type gatewayState struct {
	sessions   map[string]*session
	current    *session // the newest session
	conns      map[*gwConn]bool
	identifies []Identify
	resumes    []Resume
	heartbeats int
	connects   int
	noAcks     bool
}

// session is a gateway session: its events, which a resume replays.
type session struct {
	id     string
	seq    int64
	events []event
	conn   *gwConn // the live connection, or nil
}

type event struct {
	seq  int64
	typ  string
	data json.RawMessage
}

type gwConn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	sess *session
}

func (c *gwConn) send(op int, typ string, seq int64, d any) error {
	msg := map[string]any{"op": op, "d": d}
	if op == opDispatch {
		msg["t"], msg["s"] = typ, seq
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(msg)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("v") != "10" || q.Get("encoding") != "json" {
		s.mu.Lock()
		s.violate("gateway connection with v=%q encoding=%q, want v=10 encoding=json", q.Get("v"), q.Get("encoding"))
		s.mu.Unlock()
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	if s.gw.conns == nil {
		s.gw.conns = map[*gwConn]bool{}
	}
	s.gw.conns[c] = true
	s.gw.connects++
	interval := s.opts.HeartbeatInterval.Milliseconds()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.gw.conns, c)
		if c.sess != nil && c.sess.conn == c {
			c.sess.conn = nil
		}
		s.changed.Broadcast()
		s.mu.Unlock()
		ws.Close()
	}()
	if c.send(opHello, "", 0, map[string]any{"heartbeat_interval": interval}) != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(data, &p) != nil {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "Decode error"), time.Now().Add(time.Second))
			return
		}
		if !s.gatewayOp(c, r.URL.Path, p.Op, p.D) {
			return
		}
	}
}

// gatewayOp handles one payload from a client; false closes the
// connection.
func (s *Server) gatewayOp(c *gwConn, path string, op int, d json.RawMessage) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed.Broadcast()
	closeWith := func(code int, text string) bool {
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		return false
	}
	switch op {
	case opHeartbeat:
		s.gw.heartbeats++
		if s.gw.noAcks {
			return true
		}
		return c.send(opHeartbeatACK, "", 0, nil) == nil
	case opIdentify:
		if c.sess != nil {
			return closeWith(4005, "Already authenticated")
		}
		var id struct {
			Token      string            `json:"token"`
			Intents    int               `json:"intents"`
			Shard      []int             `json:"shard"`
			Properties map[string]string `json:"properties"`
		}
		if json.Unmarshal(d, &id) != nil {
			return closeWith(4002, "Decode error")
		}
		s.gw.identifies = append(s.gw.identifies, Identify{TokenOK: id.Token == s.Token, Intents: id.Intents, Shard: id.Shard, Properties: id.Properties})
		if id.Token != s.Token {
			return closeWith(4004, "Authentication failed.")
		}
		for _, k := range []string{"os", "browser", "device"} {
			if id.Properties[k] == "" {
				s.violate("identify without properties.%s", k)
			}
		}
		if id.Shard != nil && (len(id.Shard) != 2 || id.Shard[0] < 0 || id.Shard[1] < 1 || id.Shard[0] >= id.Shard[1]) {
			return closeWith(4010, "Invalid shard.")
		}
		sess := &session{id: "session-" + s.newID(), conn: c}
		s.gw.sessions[sess.id] = sess
		s.gw.current, c.sess = sess, sess
		shard := id.Shard
		if shard == nil {
			shard = []int{0, 1}
		}
		ready := map[string]any{
			"v": 10, "session_id": sess.id, "resume_gateway_url": "ws://" + s.http.Listener.Addr().String() + "/resume",
			"user":        map[string]any{"id": s.AppID, "username": "Herald", "bot": true, "discriminator": "0"},
			"application": map[string]any{"id": s.AppID, "flags": 0},
			"guilds":      []any{}, "shard": shard,
		}
		return s.appendEvent(sess, "READY", ready) == nil
	case opResume:
		var res struct {
			Token     string `json:"token"`
			SessionID string `json:"session_id"`
			Seq       int64  `json:"seq"`
		}
		if json.Unmarshal(d, &res) != nil {
			return closeWith(4002, "Decode error")
		}
		sess, ok := s.gw.sessions[res.SessionID]
		ok = ok && res.Token == s.Token && res.Seq <= sess.seq
		s.gw.resumes = append(s.gw.resumes, Resume{SessionID: res.SessionID, Seq: res.Seq, Path: path, OK: ok})
		if !ok {
			return c.send(opInvalidSession, "", 0, false) == nil
		}
		if old := sess.conn; old != nil && old != c {
			old.ws.Close()
		}
		sess.conn, c.sess = c, sess
		for _, e := range sess.events {
			if e.seq > res.Seq {
				if c.send(opDispatch, e.typ, e.seq, e.data) != nil {
					return false
				}
			}
		}
		return s.appendEvent(sess, "RESUMED", map[string]any{}) == nil
	default:
		return true
	}
}

// appendEvent records a dispatch in a session and sends it when the
// session has a live connection. The server is locked.
func (s *Server) appendEvent(sess *session, typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	sess.seq++
	sess.events = append(sess.events, event{seq: sess.seq, typ: typ, data: raw})
	if sess.conn != nil {
		if err := sess.conn.send(opDispatch, typ, sess.seq, json.RawMessage(raw)); err != nil {
			sess.conn.ws.Close() // the client resumes and gets it again
		}
	}
	return nil
}

// dispatchLocked sends an event to the newest session; one that is not
// connected at the moment gets it when it resumes, as on Discord.
func (s *Server) dispatchLocked(typ string, data any) error {
	if s.gw.current == nil {
		return errors.New("no gateway session: wait for the client to identify (WaitReady)")
	}
	return s.appendEvent(s.gw.current, typ, data)
}

// Dispatch sends an event of type typ with data to the newest session.
func (s *Server) Dispatch(tb testing.TB, typ string, data any) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.dispatchLocked(typ, data); err != nil {
		tb.Fatalf("fake Discord: %v", err)
	}
}

// WaitReady waits until a client has a live session (identified or
// resumed).
func (s *Server) WaitReady(tb testing.TB) {
	tb.Helper()
	s.waitFor(tb, 10*time.Second, "a gateway session", func() bool {
		return s.gw.current != nil && s.gw.current.conn != nil
	})
}

// DropConnection closes the live gateway connection without a close
// frame, as a network failure does. The session stays resumable.
func (s *Server) DropConnection() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.gw.conns {
		c.ws.UnderlyingConn().Close()
	}
}

// CloseGateway closes the live connections with a close code, e.g. 4004
// (authentication failed) or 4009 (session timed out).
func (s *Server) CloseGateway(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.gw.conns {
		c.wmu.Lock()
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		c.wmu.Unlock()
		c.ws.Close()
	}
}

// RequestReconnect sends op 7 Reconnect on the live connections.
func (s *Server) RequestReconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.gw.conns {
		c.send(opReconnect, "", 0, nil)
	}
}

// AckHeartbeats sets whether heartbeats are acknowledged (they are by
// default). Without acknowledgements a client should take the connection
// for a zombie and reconnect.
func (s *Server) AckHeartbeats(ack bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.noAcks = !ack
}

// ExpireSessions forgets every session, as Discord does after a while:
// a resume is then answered with op 9 Invalid Session.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.sessions = map[string]*session{}
}

// Connects returns how many gateway connections were opened.
func (s *Server) Connects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gw.connects
}

// Identifies returns every Identify received.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.gw.identifies...)
}

// Resumes returns every Resume received.
func (s *Server) Resumes() []Resume {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Resume(nil), s.gw.resumes...)
}

// Heartbeats returns how many heartbeats were received (and acknowledged).
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gw.heartbeats
}

// Connected reports whether a client has a live gateway connection.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.gw.conns) > 0
}

func (s *Server) closeGateway() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.gw.conns {
		c.ws.Close()
	}
}
