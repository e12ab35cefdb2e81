// Package console owns the terminal adapter: the chat commands typed in a
// shell or piped from a script, answered as plain text. It speaks as chat
// "console" on the same store as the daemon, with administrator rights,
// and needs no tokens.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/seed-c50b6fda/herald/bot"
	"github.com/seed-c50b6fda/herald/digest"
	"github.com/seed-c50b6fda/herald/digest/render"
)

// ChatID is the chat the console speaks as.
const ChatID = "console"

// Adapter reads commands line by line and prints the bot's answers.
type Adapter struct {
	Bot    *bot.Bot
	In     io.Reader
	Out    io.Writer
	User   string // user id; default "console"
	Prompt bool   // print a prompt before each line (interactive terminals)
}

// Run answers commands until the input ends, the user types quit or exit,
// or ctx ends. Lines may omit the leading "/"; "press DATA" presses the
// button whose data is DATA (paging).
func (a *Adapter) Run(ctx context.Context) error {
	user := a.User
	if user == "" {
		user = "console"
	}
	lines := make(chan string)
	errc := make(chan error, 1)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(a.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-readCtx.Done():
				return
			}
		}
		errc <- sc.Err()
	}()
	for {
		if a.Prompt {
			fmt.Fprint(a.Out, "herald> ")
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			select {
			case err := <-errc:
				if err != nil {
					return fmt.Errorf("read commands: %w", err)
				}
			default:
			}
			return nil
		}
		line = strings.TrimSpace(line)
		switch strings.ToLower(line) {
		case "":
			continue
		case "quit", "exit", "/quit", "/exit":
			return nil
		}
		req := &bot.Request{Platform: digest.PlatformConsole, ChatID: ChatID, ChatKind: "private",
			ChatTitle: "console", UserID: user, UserName: user, Admin: true}
		if data, isPress := strings.CutPrefix(line, "press "); isPress {
			req.Callback = strings.TrimSpace(data)
		} else {
			if !strings.HasPrefix(line, "/") {
				line = "/" + line
			}
			cmd, args, ok := bot.ParseCommand(line, "")
			if !ok {
				fmt.Fprintf(a.Out, "%q is not a command. Type help for the list, quit to leave.\n\n", line)
				continue
			}
			req.Command, req.Args = cmd, args
		}
		for _, m := range a.Bot.Handle(ctx, req) {
			fmt.Fprint(a.Out, Render(m))
		}
		fmt.Fprintln(a.Out)
	}
}

// Render shows a message as plain text for a terminal. Feed text is
// stripped of control characters first, so a headline cannot move the
// cursor or recolour the screen.
func Render(m *bot.Message) string {
	var b strings.Builder
	if m.Error {
		b.WriteString("! ")
	}
	for _, bl := range m.Blocks {
		switch bl.Kind {
		case bot.Heading:
			t := safe(bl.Text)
			b.WriteString(t + "\n" + strings.Repeat("=", min(len([]rune(t)), 72)) + "\n")
		case bot.List:
			for _, it := range bl.Items {
				b.WriteString("  • " + safe(it.Text))
				if it.URL != "" {
					b.WriteString(" <" + safe(it.URL) + ">")
				}
				if it.Note != "" {
					b.WriteString(" — " + safe(it.Note))
				}
				b.WriteString("\n")
			}
		case bot.Code:
			b.WriteString("    " + safe(bl.Text) + "\n")
		default:
			b.WriteString(safe(bl.Text) + "\n")
		}
	}
	if m.Digest != nil {
		b.WriteString(render.Text(*m.Digest))
	}
	if len(m.Buttons) > 0 {
		var bs []string
		for _, btn := range m.Buttons {
			bs = append(bs, fmt.Sprintf("[%s] press %s", safe(btn.Label), safe(btn.Data)))
		}
		b.WriteString(strings.Join(bs, "   ") + "\n")
	}
	if m.File != nil {
		fmt.Fprintf(&b, "--- %s (%d bytes) ---\n%s", safe(m.File.Name), len(m.File.Data), safeMultiline(string(m.File.Data)))
		if !strings.HasSuffix(string(m.File.Data), "\n") {
			b.WriteString("\n")
		}
		b.WriteString("--- end of " + safe(m.File.Name) + " ---\n")
	}
	return b.String()
}

// safe removes control and format characters (escape sequences, bidi
// overrides) and folds line breaks into spaces.
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}

// safeMultiline is safe but keeps line breaks.
func safeMultiline(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}
