// Package discordtest owns an in-process fake of Discord for tests: the
// REST endpoints Herald's Discord adapter uses and a gateway websocket,
// speaking Discord's JSON wire format (API v10).
//
// REST: GET /gateway/bot, GET /applications/@me, PUT of application
// commands (global and per guild), POST interaction callbacks, PATCH and
// DELETE of an interaction's original response, POST follow-ups, GET
// /channels/{id}, POST /channels/{id}/messages (with nonce and
// enforce_nonce de-duplication) and POST /channels/{id}/threads (forum
// posts). Bot routes require the bot token; interaction callbacks and
// webhooks, as on Discord, do not. Faults can be injected per route: 429s
// with retry_after and global, error statuses with Discord error codes,
// and lost responses (the request takes effect, the answer never comes).
//
// Gateway: Hello with a heartbeat interval, Identify answered by READY
// (session_id, resume_gateway_url), heartbeats acknowledged, Resume on the
// resume URL replaying missed events and answered by RESUMED, and
// INTERACTION_CREATE dispatches of interactions a test makes. A test can
// drop the connection, close it with a code, or ask the client to
// reconnect.
//
// Every message body the fake receives is checked against Discord's
// limits, independently of Herald's renderers: an invalid one is refused
// with 400 and code 50035 like Discord does. Herald's own rules are
// checked too: an allowed_mentions object with an explicit empty parse
// list on every message, and nothing in the text that Discord reads as a
// mention. Every breach is recorded, and the test fails at cleanup when
// there was any.
package discordtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Channel types, as Discord numbers them.
const (
	GuildText          = 0
	DM                 = 1
	GuildAnnouncement  = 5
	AnnouncementThread = 10
	PublicThread       = 11
	PrivateThread      = 12
	GuildForum         = 15
	GuildMedia         = 16
)

// Permission bits.
const (
	PermAdministrator         = 1 << 3
	PermManageChannels        = 1 << 4
	PermViewChannel           = 1 << 10
	PermSendMessages          = 1 << 11
	PermEmbedLinks            = 1 << 14
	PermAttachFiles           = 1 << 15
	PermSendMessagesInThreads = 1 << 38
	defaultBotPermissions     = PermViewChannel | PermSendMessages | PermEmbedLinks | PermAttachFiles | PermSendMessagesInThreads
)

// Message flags.
const (
	FlagSuppressEmbeds = 1 << 2
	FlagEphemeral      = 1 << 6
)

// Channel is a channel the fake knows.
type Channel struct {
	ID       string
	Type     int
	GuildID  string
	ParentID string
	Name     string
	// Forbidden makes sends to the channel fail with 403 Missing Access,
	// as when the bot was removed or lost its permissions.
	Forbidden bool
	// BotPermissions are the bot's permissions in the channel, sent as
	// app_permissions with interactions; 0 means View Channel, Send
	// Messages (also in threads), Embed Links and Attach Files.
	BotPermissions uint64
}

// Message is a message as the fake stored it.
type Message struct {
	ID        string
	ChannelID string
	Content   string
	Embeds    []Embed
	// Buttons are the buttons of every action row, in order.
	Buttons         []Button
	Flags           int
	Nonce           string
	AllowedMentions json.RawMessage
	Files           []File
	// InteractionID is set on an interaction's response and follow-ups.
	InteractionID string
	// Deferred is true while an interaction's deferred response has not
	// been edited yet ("thinking…").
	Deferred bool
	Edits    int
	Deleted  bool
	// Raw is the last body received for the message.
	Raw json.RawMessage
}

// Ephemeral reports whether only the invoking user sees the message.
func (m Message) Ephemeral() bool { return m.Flags&FlagEphemeral != 0 }

// Text returns the content and every embed's title, description, field
// and footer text, for assertions.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(m.Content)
	for _, e := range m.Embeds {
		b.WriteString("\n" + e.Title + "\n" + e.Description)
		for _, f := range e.Fields {
			b.WriteString("\n" + f.Name + "\n" + f.Value)
		}
		if e.Footer != nil {
			b.WriteString("\n" + e.Footer.Text)
		}
	}
	return b.String()
}

// Embed is Discord's embed object.
type Embed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Timestamp   string `json:"timestamp"`
	Color       int    `json:"color"`
	Footer      *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Author *struct {
		Name string `json:"name"`
	} `json:"author"`
	Fields []struct {
		Name   string `json:"name"`
		Value  string `json:"value"`
		Inline bool   `json:"inline"`
	} `json:"fields"`
}

// Button is a button component.
type Button struct {
	Style    int    `json:"style"`
	Label    string `json:"label"`
	CustomID string `json:"custom_id"`
	URL      string `json:"url"`
	Disabled bool   `json:"disabled"`
}

// File is an attached file.
type File struct {
	Name string
	Data []byte
}

// Registration is one bulk overwrite of application commands.
type Registration struct {
	GuildID  string // "" for global commands
	Commands []Command
}

// Command is an application command as registered.
type Command struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Type        int             `json:"type"`
	Options     []CommandOption `json:"options"`
	Contexts    []int           `json:"contexts"`
}

// CommandOption is an option of a command.
type CommandOption struct {
	Type         int    `json:"type"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Required     bool   `json:"required"`
	Autocomplete bool   `json:"autocomplete"`
	MaxLength    int    `json:"max_length"`
	Choices      []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"choices"`
}

// Fault is a failure to inject into matching REST requests.
type Fault struct {
	// Route is the method and route template, e.g.
	// "POST /channels/{id}/messages"; see Server.Routes.
	Route string
	// ID, when set, limits the fault to requests whose first {…}
	// parameter is this (a channel id, an interaction id).
	ID    string
	Times int // how many requests it hits; 0 means 1

	Status  int // the HTTP status to answer; 429 with RetryAfter
	Code    int // Discord's JSON error code
	Message string

	RetryAfter time.Duration // for 429
	Global     bool          // for 429: the global rate limit

	// Lose makes the request take effect while its response is lost:
	// the connection is closed without an answer.
	Lose bool
}

// Request is a REST request the fake received.
type Request struct {
	Method, Path, Route string
	Authorized          bool
	Status              int
	Body                []byte
	At                  time.Time
}

// Options configure a Server.
type Options struct {
	Token             string        // the bot token; default "fake-bot-token"
	AppID             string        // default "100000000000000001"
	HeartbeatInterval time.Duration // default 45s
	// AckDeadline is how long an interaction may wait for its callback:
	// Discord's 3 seconds by default.
	AckDeadline time.Duration
}

// Server is a fake Discord. Its methods are safe for concurrent use.
type Server struct {
	// URL is the REST API base, like https://discord.com/api/v10.
	URL   string
	Token string
	AppID string

	tb   testing.TB
	http *httptest.Server
	opts Options

	mu           sync.Mutex
	changed      *sync.Cond
	nextID       uint64
	channels     map[string]*Channel
	messages     []*Message
	byID         map[string]*Message
	nonces       map[string]*Message
	deduplicated int
	regs         []Registration
	interactions map[string]*Interaction
	requests     []Request
	faults       []*Fault
	violations   []string

	gw gatewayState
}

// New starts a fake Discord that closes when the test ends, and fails the
// test at cleanup if it received anything Discord would refuse or that
// breaks Herald's rules.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Token == "" {
		opts.Token = "fake-bot-token"
	}
	if opts.AppID == "" {
		opts.AppID = "100000000000000001"
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 45 * time.Second
	}
	if opts.AckDeadline <= 0 {
		opts.AckDeadline = 3 * time.Second
	}
	s := &Server{
		Token: opts.Token, AppID: opts.AppID, tb: tb, opts: opts,
		channels: map[string]*Channel{}, byID: map[string]*Message{}, nonces: map[string]*Message{},
		interactions: map[string]*Interaction{},
	}
	s.changed = sync.NewCond(&s.mu)
	s.gw.sessions = map[string]*session{}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL + "/api/v10"
	tb.Cleanup(func() {
		s.closeGateway()
		s.http.Close()
		for _, v := range s.Violations() {
			tb.Errorf("fake Discord: %s", v)
		}
	})
	return s
}

// Routes lists the route templates the fake serves, for Fault.Route.
func Routes() []string {
	var out []string
	for _, r := range routes {
		out = append(out, r.method+" "+r.pattern)
	}
	return out
}

// AddChannel adds or replaces a channel.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cc := c
	s.channels[c.ID] = &cc
}

// Channel returns a channel by id.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// Threads returns the threads created under a channel (forum posts), oldest
// first.
func (s *Server) Threads(parentID string) []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, c := range s.channels {
		if c.ParentID == parentID && isThread(c.Type) {
			out = append(out, *c)
		}
	}
	sortChannels(out)
	return out
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Messages returns the messages in a channel that are not deleted, oldest
// first, including ephemeral ones.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.ChannelID == channelID && !m.Deleted {
			out = append(out, *m)
		}
	}
	return out
}

// AllMessages returns every message ever created, deleted ones included.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Deduplicated counts channel messages not created again because their
// nonce was seen before with enforce_nonce.
func (s *Server) Deduplicated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deduplicated
}

// Registrations returns every bulk overwrite of commands, in order.
func (s *Server) Registrations() []Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Registration(nil), s.regs...)
}

// Requests returns every REST request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// TakeViolations returns what the fake found wrong so far and forgets it,
// for tests that send wrong things on purpose.
func (s *Server) TakeViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// Violations returns what the fake found wrong in what it received.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Eventually waits until cond holds, checking every 10ms, or fails the
// test after timeout. cond may call the server's methods.
func (s *Server) Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("fake Discord: timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFor waits until cond, called with the server locked (it must not
// call the server's methods), holds, or fails the test after timeout.
func (s *Server) waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	stop := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.changed.Broadcast()
		s.mu.Unlock()
	})
	defer stop.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("fake Discord: timed out after %s waiting for %s", timeout, what)
		}
		s.changed.Wait()
	}
}

// WaitMessages waits until channelID holds at least n messages that are
// not deferred placeholders, and returns them.
func (s *Server) WaitMessages(tb testing.TB, channelID string, n int) []Message {
	tb.Helper()
	s.waitFor(tb, 10*time.Second, fmt.Sprintf("%d messages in channel %s", n, channelID), func() bool {
		k := 0
		for _, m := range s.messages {
			if m.ChannelID == channelID && !m.Deleted && !m.Deferred {
				k++
			}
		}
		return k >= n
	})
	var out []Message
	for _, m := range s.Messages(channelID) {
		if !m.Deferred {
			out = append(out, m)
		}
	}
	return out
}

// discordEpoch is the first millisecond of 2015, where snowflakes count
// from.
const discordEpoch = 1420070400000

// newID returns a snowflake, as Discord makes them: the time in its top
// 42 bits, so that ids grow with time and tell when they were made.
func (s *Server) newID() string {
	id := uint64(time.Now().UnixMilli()-discordEpoch) << 22
	if id <= s.nextID {
		id = s.nextID + 1
	}
	s.nextID = id
	return strconv.FormatUint(id, 10)
}

func (s *Server) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// route is one REST endpoint.
type route struct {
	method, pattern string
	bot             bool // requires the bot token
	handle          func(s *Server, c *call) (int, any)
}

var routes = []route{
	{"GET", "/gateway/bot", true, (*Server).gatewayBot},
	{"GET", "/applications/@me", true, (*Server).application},
	{"PUT", "/applications/{app}/commands", true, (*Server).putCommands},
	{"PUT", "/applications/{app}/guilds/{guild}/commands", true, (*Server).putCommands},
	{"POST", "/interactions/{id}/{token}/callback", false, (*Server).callback},
	{"PATCH", "/webhooks/{app}/{token}/messages/@original", false, (*Server).editOriginal},
	{"DELETE", "/webhooks/{app}/{token}/messages/@original", false, (*Server).deleteOriginal},
	{"POST", "/webhooks/{app}/{token}", false, (*Server).followUp},
	{"GET", "/channels/{id}", true, (*Server).getChannel},
	{"POST", "/channels/{id}/messages", true, (*Server).createMessage},
	{"POST", "/channels/{id}/threads", true, (*Server).createThread},
}

// call is one REST request being served, with the server locked.
type call struct {
	r      *http.Request
	route  string
	params []string
	body   []byte // the JSON body (payload_json of a multipart body)
	files  []File
}

// apiError is Discord's JSON error body.
type apiError struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

func errBody(code int, msg string) apiError { return apiError{Message: msg, Code: code} }

func match(pattern, path string) ([]string, bool) {
	pp, sp := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(pp) != len(sp) {
		return nil, false
	}
	var params []string
	for i := range pp {
		switch {
		case strings.HasPrefix(pp[i], "{"):
			if sp[i] == "" {
				return nil, false
			}
			params = append(params, sp[i])
		case pp[i] != sp[i]:
			return nil, false
		}
	}
	return params, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/gateway", "/resume":
		s.serveGateway(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v10")
	if !ok {
		http.NotFound(w, r)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		return
	}
	var rt *route
	var params []string
	for i := range routes {
		if p, ok := match(routes[i].pattern, path); ok && routes[i].method == r.Method {
			rt, params = &routes[i], p
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.changed.Broadcast()
	req := Request{Method: r.Method, Path: path, Body: raw, At: time.Now()}
	req.Authorized = r.Header.Get("Authorization") == "Bot "+s.Token
	if !strings.HasPrefix(r.Header.Get("User-Agent"), "DiscordBot (") {
		s.violate("%s %s: User-Agent %q is not of the form DiscordBot ($url, $version)", r.Method, path, r.Header.Get("User-Agent"))
	}
	reply := func(status int, v any) {
		req.Status = status
		s.requests = append(s.requests, req)
		writeJSON(w, status, v)
	}
	if rt == nil {
		reply(404, errBody(0, "404: Not Found"))
		return
	}
	req.Route = rt.method + " " + rt.pattern
	if rt.bot && !req.Authorized {
		reply(401, errBody(0, "401: Unauthorized"))
		return
	}
	c := &call{r: r, route: req.Route, params: params, body: raw}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		if c.body, c.files, err = readMultipart(r, raw); err != nil {
			reply(400, errBody(50035, "Invalid Form Body: "+err.Error()))
			return
		}
	}
	if f := s.fault(req.Route, params); f != nil {
		switch {
		case f.Lose:
			rt.handle(s, c)
			req.Status = -1
			s.requests = append(s.requests, req)
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case f.Status == 429:
			secs := f.RetryAfter.Seconds()
			w.Header().Set("Retry-After", strconv.Itoa(int(secs+0.999)))
			w.Header().Set("X-RateLimit-Scope", map[bool]string{true: "global", false: "user"}[f.Global])
			if f.Global {
				w.Header().Set("X-RateLimit-Global", "true")
			}
			reply(429, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": f.Global, "code": 0})
		default:
			reply(f.Status, errBody(f.Code, f.Message))
		}
		return
	}
	status, v := rt.handle(s, c)
	reply(status, v)
}

// fault returns the first fault matching a request and uses it up.
func (s *Server) fault(route string, params []string) *Fault {
	for i, f := range s.faults {
		if f.Route != route || (f.ID != "" && (len(params) == 0 || params[0] != f.ID)) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// readMultipart reads a multipart body: payload_json and files[n].
func readMultipart(r *http.Request, raw []byte) ([]byte, []File, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, nil, err
	}
	mr := multipart.NewReader(strings.NewReader(string(raw)), params["boundary"])
	var body []byte
	var files []File
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, err
		}
		switch name := p.FormName(); {
		case name == "payload_json":
			body = data
		case strings.HasPrefix(name, "files["):
			files = append(files, File{Name: p.FileName(), Data: data})
		default:
			return nil, nil, fmt.Errorf("unexpected form field %q", name)
		}
	}
	if body == nil {
		return nil, nil, fmt.Errorf("no payload_json")
	}
	return body, files, nil
}

func (s *Server) gatewayBot(c *call) (int, any) {
	return 200, map[string]any{
		"url":    "ws://" + c.r.Host + "/gateway",
		"shards": 1,
		"session_start_limit": map[string]any{
			"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1,
		},
	}
}

func (s *Server) application(c *call) (int, any) {
	return 200, map[string]any{"id": s.AppID, "name": "Herald", "bot_public": true}
}

func (s *Server) putCommands(c *call) (int, any) {
	if c.params[0] != s.AppID {
		return 404, errBody(10002, "Unknown Application")
	}
	var cmds []Command
	if err := json.Unmarshal(c.body, &cmds); err != nil {
		return 400, errBody(50035, "Invalid Form Body")
	}
	if problems := validateCommands(cmds); len(problems) > 0 {
		for _, p := range problems {
			s.violate("PUT commands: %s", p)
		}
		return 400, errBody(50035, "Invalid Form Body: "+problems[0])
	}
	reg := Registration{Commands: cmds}
	if len(c.params) > 1 {
		reg.GuildID = c.params[1]
	}
	s.regs = append(s.regs, reg)
	out := make([]map[string]any, len(cmds))
	for i, cmd := range cmds {
		out[i] = map[string]any{"id": s.newID(), "application_id": s.AppID, "name": cmd.Name, "description": cmd.Description, "version": s.newID()}
	}
	return 200, out
}

func (s *Server) getChannel(c *call) (int, any) {
	ch, ok := s.channels[c.params[0]]
	if !ok {
		return 404, errBody(10003, "Unknown Channel")
	}
	if ch.Forbidden {
		return 403, errBody(50001, "Missing Access")
	}
	return 200, channelJSON(ch)
}

func channelJSON(ch *Channel) map[string]any {
	m := map[string]any{"id": ch.ID, "type": ch.Type, "name": ch.Name}
	if ch.GuildID != "" {
		m["guild_id"] = ch.GuildID
	}
	if ch.ParentID != "" {
		m["parent_id"] = ch.ParentID
	}
	return m
}

func messageJSON(m *Message) map[string]any {
	return map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "flags": m.Flags, "nonce": m.Nonce}
}

// sendable returns the channel a bot message may be created in, or the
// error Discord answers.
func (s *Server) sendable(id string) (*Channel, int, any) {
	ch, ok := s.channels[id]
	switch {
	case !ok:
		return nil, 404, errBody(10003, "Unknown Channel")
	case ch.Forbidden:
		return nil, 403, errBody(50001, "Missing Access")
	case ch.Type == GuildForum || ch.Type == GuildMedia || (ch.Type != GuildText && ch.Type != DM && ch.Type != GuildAnnouncement && !isThread(ch.Type)):
		return nil, 400, errBody(50008, "Cannot send messages in a non-text channel")
	}
	return ch, 0, nil
}

func (s *Server) createMessage(c *call) (int, any) {
	ch, status, errv := s.sendable(c.params[0])
	if ch == nil {
		return status, errv
	}
	w, problem := s.checkBody(c.route, c.body, c.files, bodyCreate)
	if problem != "" {
		return 400, errBody(50035, "Invalid Form Body: "+problem)
	}
	if w.nonce != "" && w.EnforceNonce {
		if m, ok := s.nonces[ch.ID+"/"+w.nonce]; ok {
			s.deduplicated++
			return 200, messageJSON(m)
		}
	}
	m := s.store(ch.ID, w, c.body, c.files)
	if w.nonce != "" {
		s.nonces[ch.ID+"/"+w.nonce] = m
	}
	return 200, messageJSON(m)
}

func (s *Server) store(channelID string, w *wireMessage, raw []byte, files []File) *Message {
	m := &Message{ID: s.newID(), ChannelID: channelID, Nonce: w.nonce, Files: files}
	w.apply(m, raw, true)
	s.messages = append(s.messages, m)
	s.byID[m.ID] = m
	return m
}

func (s *Server) createThread(c *call) (int, any) {
	parent, ok := s.channels[c.params[0]]
	switch {
	case !ok:
		return 404, errBody(10003, "Unknown Channel")
	case parent.Forbidden:
		return 403, errBody(50001, "Missing Access")
	case parent.Type != GuildForum && parent.Type != GuildMedia:
		return 400, errBody(50024, "Cannot execute action on this channel type")
	}
	var body struct {
		Name    string          `json:"name"`
		Message json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil {
		return 400, errBody(50035, "Invalid Form Body")
	}
	if n := len([]rune(body.Name)); n < 1 || n > 100 {
		s.violate("%s: thread name of %d characters (1 to 100)", c.route, n)
		return 400, errBody(50035, "Invalid Form Body: name")
	}
	if len(body.Message) == 0 {
		s.violate("%s: a forum post without a message", c.route)
		return 400, errBody(50035, "Invalid Form Body: message")
	}
	w, problem := s.checkBody(c.route, body.Message, c.files, bodyCreate)
	if problem != "" {
		return 400, errBody(50035, "Invalid Form Body: "+problem)
	}
	thread := &Channel{ID: s.newID(), Type: PublicThread, GuildID: parent.GuildID, ParentID: parent.ID, Name: body.Name}
	s.channels[thread.ID] = thread
	// A forum post's starter message has the id of its thread.
	m := &Message{ID: thread.ID, ChannelID: thread.ID, Files: c.files}
	w.apply(m, body.Message, true)
	s.messages = append(s.messages, m)
	s.byID[m.ID] = m
	out := channelJSON(thread)
	out["message"] = messageJSON(m)
	return 201, out
}

func isThread(t int) bool { return t == AnnouncementThread || t == PublicThread || t == PrivateThread }

func sortChannels(cs []Channel) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && idLess(cs[j].ID, cs[j-1].ID); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
