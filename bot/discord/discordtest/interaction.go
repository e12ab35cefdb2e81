package discordtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// Interaction types.
const (
	ApplicationCommand  = 2
	MessageComponent    = 3
	CommandAutocomplete = 4
)

// Interaction callback types.
const (
	Pong                   = 1
	ChannelMessage         = 4
	DeferredChannelMessage = 5
	DeferredUpdateMessage  = 6
	UpdateMessage          = 7
	AutocompleteResult     = 8
)

// Autocomplete limits.
const (
	maxAutocompleteChoices  = 25
	maxChoiceNameOrValueLen = 100
)

// User is who invokes an interaction. In a guild channel the fake sends a
// member with Permissions; in a DM only the user.
type User struct {
	ID, Name    string
	Permissions uint64
}

// Option is a command option as the user filled it in.
type Option struct {
	Name    string
	Value   string
	Focused bool // autocomplete: the option being typed
}

// Invocation is a slash command a user runs.
type Invocation struct {
	Command   string
	Options   []Option
	ChannelID string // a channel the fake knows
	User      User
	// OmitChannel leaves the channel object out of the payload, so that
	// the client has to look the channel up.
	OmitChannel bool
}

// Choice is an autocomplete choice.
type Choice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Interaction is one interaction the fake dispatched. Read its state
// through its methods.
type Interaction struct {
	ID, Token string
	Type      int
	ChannelID string

	s          *Server
	dispatched time.Time
	acked      int
	ackedAfter time.Duration
	original   *Message // the response (4, 5) or the message a component is on (6, 7)
	followUps  []*Message
	choices    []Choice
	baseEdits  int // edits of the pressed message before the press
}

// Invoke dispatches a slash command over the gateway. The command and its
// options must have been registered, as on Discord.
func (s *Server) Invoke(tb testing.TB, inv Invocation) *Interaction {
	tb.Helper()
	return s.invoke(tb, inv, ApplicationCommand)
}

// Autocomplete dispatches an autocomplete request for the option marked
// Focused.
func (s *Server) Autocomplete(tb testing.TB, inv Invocation) *Interaction {
	tb.Helper()
	return s.invoke(tb, inv, CommandAutocomplete)
}

func (s *Server) invoke(tb testing.TB, inv Invocation, typ int) *Interaction {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, ok := s.registered(inv.Command)
	if !ok {
		tb.Fatalf("fake Discord: /%s is not a registered command", inv.Command)
	}
	var opts []map[string]any
	for _, o := range inv.Options {
		var def *CommandOption
		for i := range cmd.Options {
			if cmd.Options[i].Name == o.Name {
				def = &cmd.Options[i]
			}
		}
		if def == nil {
			tb.Fatalf("fake Discord: /%s has no option %q", inv.Command, o.Name)
		}
		opt := map[string]any{"name": o.Name, "type": def.Type, "value": o.Value}
		if o.Focused {
			opt["focused"] = true
		}
		opts = append(opts, opt)
	}
	data := map[string]any{"id": s.newID(), "name": inv.Command, "type": 1}
	if opts != nil {
		data["options"] = opts
	}
	return s.dispatchInteraction(tb, typ, inv.ChannelID, inv.User, inv.OmitChannel, data, nil)
}

// Press dispatches a press on the button with customID of message m.
func (s *Server) Press(tb testing.TB, m Message, customID string, u User) *Interaction {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.byID[m.ID]
	if !ok || cur.Deleted {
		tb.Fatalf("fake Discord: no message %s to press a button on", m.ID)
	}
	found := false
	for _, b := range cur.Buttons {
		found = found || (b.CustomID == customID && !b.Disabled)
	}
	if !found {
		tb.Fatalf("fake Discord: message %s has no button %q (it has %+v)", m.ID, customID, cur.Buttons)
	}
	msg := messageJSON(cur)
	var rows []map[string]any
	for _, b := range cur.Buttons {
		rows = append(rows, map[string]any{"type": 2, "style": b.Style, "label": b.Label, "custom_id": b.CustomID})
	}
	msg["components"] = []map[string]any{{"type": 1, "components": rows}}
	data := map[string]any{"custom_id": customID, "component_type": 2}
	ix := s.dispatchInteraction(tb, MessageComponent, cur.ChannelID, u, false, data, msg)
	ix.original, ix.baseEdits = cur, cur.Edits
	return ix
}

func (s *Server) registered(name string) (Command, bool) {
	if len(s.regs) == 0 {
		return Command{}, false
	}
	for _, c := range s.regs[len(s.regs)-1].Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// dispatchInteraction builds an INTERACTION_CREATE and sends it to the
// current gateway session. The server is locked.
func (s *Server) dispatchInteraction(tb testing.TB, typ int, channelID string, u User, omitChannel bool, data, message map[string]any) *Interaction {
	tb.Helper()
	ch, ok := s.channels[channelID]
	if !ok {
		tb.Fatalf("fake Discord: no channel %s", channelID)
	}
	if u.ID == "" {
		u.ID = "300000000000000001"
	}
	if u.Name == "" {
		u.Name = "user" + u.ID[len(u.ID)-3:]
	}
	ix := &Interaction{ID: s.newID(), Token: "aW50ZXJhY3Rpb246" + s.newID(), Type: typ, ChannelID: channelID, s: s}
	user := map[string]any{"id": u.ID, "username": u.Name, "global_name": u.Name, "discriminator": "0"}
	payload := map[string]any{
		"id": ix.ID, "application_id": s.AppID, "type": typ, "token": ix.Token, "version": 1,
		"channel_id": channelID, "data": data, "locale": "en-US",
	}
	perms := ch.BotPermissions
	if perms == 0 {
		perms = defaultBotPermissions
	}
	payload["app_permissions"] = strconv.FormatUint(perms, 10)
	if !omitChannel {
		payload["channel"] = channelJSON(ch)
	}
	if message != nil {
		payload["message"] = message
	}
	if ch.GuildID != "" {
		payload["guild_id"] = ch.GuildID
		payload["context"] = 0
		payload["member"] = map[string]any{"user": user, "roles": []string{}, "permissions": strconv.FormatUint(u.Permissions, 10),
			"joined_at": "2024-01-01T00:00:00.000000+00:00"}
	} else {
		payload["context"] = 1
		payload["user"] = user
	}
	s.interactions[ix.ID] = ix
	ix.dispatched = time.Now()
	if err := s.dispatchLocked("INTERACTION_CREATE", payload); err != nil {
		tb.Fatalf("fake Discord: %v", err)
	}
	return ix
}

func (s *Server) interactionByToken(app, token string) *Interaction {
	if app != s.AppID {
		return nil
	}
	for _, ix := range s.interactions {
		if ix.Token == token {
			return ix
		}
	}
	return nil
}

// Acked waits for the interaction's callback and returns its type.
func (ix *Interaction) Acked(tb testing.TB) int {
	tb.Helper()
	ix.s.waitFor(tb, 10*time.Second, "the callback of interaction "+ix.ID, func() bool { return ix.acked != 0 })
	ix.s.mu.Lock()
	defer ix.s.mu.Unlock()
	return ix.acked
}

// AckedAfter returns how long after its dispatch the interaction was
// acknowledged.
func (ix *Interaction) AckedAfter() time.Duration {
	ix.s.mu.Lock()
	defer ix.s.mu.Unlock()
	return ix.ackedAfter
}

// Replies waits until the interaction has at least n visible replies (its
// response, once no longer a deferred placeholder, and its follow-ups) and
// returns them in order. For a button press whose response updated the
// message, the updated message counts as the first reply.
func (ix *Interaction) Replies(tb testing.TB, n int) []Message {
	tb.Helper()
	var out []Message
	ix.s.waitFor(tb, 10*time.Second, fmt.Sprintf("%d replies to interaction %s", n, ix.ID), func() bool {
		out = ix.replies()
		return len(out) >= n
	})
	return out
}

// Reply waits for the first reply.
func (ix *Interaction) Reply(tb testing.TB) Message {
	tb.Helper()
	return ix.Replies(tb, 1)[0]
}

func (ix *Interaction) replies() []Message {
	var out []Message
	if o := ix.original; o != nil && !o.Deleted && !o.Deferred {
		if ix.Type != MessageComponent || ix.acked == UpdateMessage || (ix.acked == DeferredUpdateMessage && o.Edits > ix.baseEdits) {
			out = append(out, *o)
		}
	}
	for _, m := range ix.followUps {
		if !m.Deleted {
			out = append(out, *m)
		}
	}
	return out
}

// OriginalDeleted reports whether the response was deleted.
func (ix *Interaction) OriginalDeleted() bool {
	ix.s.mu.Lock()
	defer ix.s.mu.Unlock()
	return ix.original != nil && ix.original.Deleted
}

// Choices waits for an autocomplete result and returns it.
func (ix *Interaction) Choices(tb testing.TB) []Choice {
	tb.Helper()
	if ix.Acked(tb) != AutocompleteResult {
		tb.Fatalf("fake Discord: autocomplete answered with callback type %d", ix.acked)
	}
	ix.s.mu.Lock()
	defer ix.s.mu.Unlock()
	return append([]Choice(nil), ix.choices...)
}

func (s *Server) callback(c *call) (int, any) {
	ix := s.interactions[c.params[0]]
	if ix == nil || ix.Token != c.params[1] {
		return 404, errBody(10062, "Unknown interaction")
	}
	if late := time.Since(ix.dispatched); late > s.opts.AckDeadline {
		s.violate("interaction %s acknowledged %s after it was dispatched (limit %s)", ix.ID, late.Round(time.Millisecond), s.opts.AckDeadline)
		return 404, errBody(10062, "Unknown interaction")
	}
	if ix.acked != 0 {
		s.violate("interaction %s acknowledged twice", ix.ID)
		return 400, errBody(40060, "Interaction has already been acknowledged.")
	}
	var body struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil {
		return 400, errBody(50035, "Invalid Form Body")
	}
	isComponent := ix.Type == MessageComponent
	switch {
	case body.Type == ChannelMessage && ix.Type != CommandAutocomplete:
		w, problem := s.checkBody(c.route+" (type 4)", body.Data, c.files, bodyResponse)
		if problem != "" {
			return 400, errBody(50035, "Invalid Form Body: "+problem)
		}
		m := s.store(ix.ChannelID, w, body.Data, c.files)
		m.InteractionID = ix.ID
		if isComponent {
			ix.followUps = append(ix.followUps, m)
		} else {
			ix.original = m
		}
	case body.Type == DeferredChannelMessage && ix.Type != CommandAutocomplete:
		var d struct {
			Flags int `json:"flags"`
		}
		if len(body.Data) > 0 {
			json.Unmarshal(body.Data, &d)
		}
		if d.Flags&^FlagEphemeral != 0 {
			s.violate("%s: deferred response with flags %d", c.route, d.Flags)
		}
		m := &Message{ID: s.newID(), ChannelID: ix.ChannelID, Flags: d.Flags & FlagEphemeral, InteractionID: ix.ID, Deferred: true}
		s.messages = append(s.messages, m)
		s.byID[m.ID] = m
		if isComponent {
			ix.followUps = append(ix.followUps, m)
		} else {
			ix.original = m
		}
	case body.Type == DeferredUpdateMessage && isComponent:
	case body.Type == UpdateMessage && isComponent:
		w, problem := s.checkBody(c.route+" (type 7)", body.Data, c.files, bodyEdit)
		if problem != "" {
			return 400, errBody(50035, "Invalid Form Body: "+problem)
		}
		w.apply(ix.original, body.Data, false)
		ix.original.Edits++
	case body.Type == AutocompleteResult && ix.Type == CommandAutocomplete:
		var d struct {
			Choices []Choice `json:"choices"`
		}
		if err := json.Unmarshal(body.Data, &d); err != nil {
			return 400, errBody(50035, "Invalid Form Body")
		}
		if len(d.Choices) > maxAutocompleteChoices {
			s.violate("autocomplete with %d choices", len(d.Choices))
			return 400, errBody(50035, "Invalid Form Body: choices")
		}
		for _, ch := range d.Choices {
			v := fmt.Sprint(ch.Value)
			if n := len([]rune(ch.Name)); n < 1 || n > maxChoiceNameOrValueLen || len([]rune(v)) > maxChoiceNameOrValueLen {
				s.violate("autocomplete choice %q = %q out of bounds", ch.Name, v)
				return 400, errBody(50035, "Invalid Form Body: choices")
			}
		}
		ix.choices = d.Choices
	default:
		s.violate("interaction %s (type %d) answered with callback type %d", ix.ID, ix.Type, body.Type)
		return 400, errBody(50035, "Invalid Form Body: type")
	}
	ix.acked = body.Type
	ix.ackedAfter = time.Since(ix.dispatched)
	return 204, nil
}

func (s *Server) editOriginal(c *call) (int, any) {
	ix := s.interactionByToken(c.params[0], c.params[1])
	if ix == nil {
		return 404, errBody(10015, "Unknown Webhook")
	}
	if ix.acked == 0 || ix.original == nil || ix.original.Deleted {
		return 404, errBody(10008, "Unknown Message")
	}
	w, problem := s.checkBody(c.route, c.body, c.files, bodyEdit)
	if problem != "" {
		return 400, errBody(50035, "Invalid Form Body: "+problem)
	}
	m := ix.original
	w.apply(m, c.body, false)
	if c.files != nil {
		m.Files = c.files
	}
	if m.Deferred && m.Content == "" && len(m.Embeds) == 0 && len(m.Files) == 0 {
		s.violate("%s: a deferred response edited into an empty message", c.route)
	}
	m.Deferred = false
	m.Edits++
	return 200, messageJSON(m)
}

func (s *Server) deleteOriginal(c *call) (int, any) {
	ix := s.interactionByToken(c.params[0], c.params[1])
	if ix == nil {
		return 404, errBody(10015, "Unknown Webhook")
	}
	if ix.original == nil || ix.original.Deleted {
		return 404, errBody(10008, "Unknown Message")
	}
	ix.original.Deleted = true
	return 204, nil
}

func (s *Server) followUp(c *call) (int, any) {
	ix := s.interactionByToken(c.params[0], c.params[1])
	if ix == nil {
		return 404, errBody(10015, "Unknown Webhook")
	}
	if ix.acked == 0 {
		s.violate("follow-up to interaction %s before it was acknowledged", ix.ID)
		return 404, errBody(10015, "Unknown Webhook")
	}
	w, problem := s.checkBody(c.route, c.body, c.files, bodyFollowUp)
	if problem != "" {
		return 400, errBody(50035, "Invalid Form Body: "+problem)
	}
	m := s.store(ix.ChannelID, w, c.body, c.files)
	m.InteractionID = ix.ID
	ix.followUps = append(ix.followUps, m)
	return 200, messageJSON(m)
}
