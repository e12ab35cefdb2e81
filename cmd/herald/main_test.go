package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets tests run this test binary as the herald command itself
// (HERALD_TEST_AS_MAIN=1), so that separate-process behaviour is tested on
// real processes without a separate build step.
func TestMain(m *testing.M) {
	if os.Getenv("HERALD_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// result is what one herald invocation did.
type result struct {
	code           int
	stdout, stderr string
}

// herald runs the command in-process with the given environment.
func herald(tb testing.TB, env map[string]string, args ...string) result {
	tb.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb, getenv)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// heraldProcess runs herald as a separate process in dir.
func heraldProcess(tb testing.TB, dir string, env []string, args ...string) result {
	tb.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"HERALD_TEST_AS_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr (or stdout for help)
	}{
		{"no command", nil, 2, "no command given"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown subcommand", []string{"feeds", "frob"}, 2, `unknown command "feeds frob"`},
		{"group without subcommand", []string{"feeds"}, 2, "feeds needs a subcommand"},
		{"unknown flag", []string{"feeds", "list", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"missing argument", []string{"feeds", "add"}, 2, "feeds add takes 1 argument(s), got 0"},
		{"extra argument", []string{"version", "x"}, 2, "version takes 0 argument(s), got 1"},
		{"bad feed URL", []string{"feeds", "add", "ftp://example.com/x"}, 2, "is not a feed URL"},
		{"help", []string{"--help"}, 0, "Usage: herald"},
		{"command help", []string{"feeds", "add", "--help"}, 0, "Usage: herald feeds add [flags] URL"},
		{"help command", []string{"help", "feeds", "list"}, 0, "Usage: herald feeds list"},
		{"group help", []string{"feeds", "--help"}, 0, "Usage: herald feeds COMMAND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HERALD_DATABASE": filepath.Join(t.TempDir(), "h.db")}
			r := herald(t, env, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Errorf("output does not contain %q:\nstdout: %s\nstderr: %s", tc.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name, c := range commands {
		t.Run(name, func(t *testing.T) {
			r := herald(t, nil, append(strings.Fields(name), "--help")...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage: herald "+name) || !strings.Contains(r.stdout, c.summary) {
				t.Errorf("%s --help: code %d, stdout %q", name, r.code, r.stdout)
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("unknown key and invalid value", func(t *testing.T) {
		p := write("bad.yaml", "fetch:\n  concurrency: 0\n  speed: fast\nlog:\n  level: loud\n")
		r := herald(t, nil, "config", "check", "--config", p)
		if r.code != 1 {
			t.Fatalf("exit code = %d, want 1", r.code)
		}
		for _, want := range []string{
			"3 problem(s)",
			"fetch.speed: unknown key",
			`fetch.concurrency: must be between 1 and 1024 (got "0")`,
			`log.level: must be debug, info, warn or error (got "loud")`,
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})
	t.Run("type errors name the field", func(t *testing.T) {
		p := write("types.yaml", "fetch:\n  timeout: soon\ndigest:\n  limit: many\n")
		r := herald(t, nil, "config", "check", "--config", p)
		for _, want := range []string{`fetch.timeout: must be a duration`, `(got "soon")`, `digest.limit: must be a whole number`} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})
	t.Run("secrets are redacted", func(t *testing.T) {
		tokenFile := write("discord.token", "discord-secret-value\n")
		p := write("good.yaml", "telegram:\n  token: \"123456:telegram-secret\"\ndatabase: postgres://herald:db-password@db:5432/herald\n")
		env := map[string]string{"HERALD_CONFIG": p, "HERALD_DISCORD_TOKEN_FILE": tokenFile}
		r := herald(t, env, "config", "check")
		if r.code != 0 {
			t.Fatalf("exit code = %d: %s", r.code, r.stderr)
		}
		for _, secret := range []string{"telegram-secret", "db-password", "discord-secret-value"} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("output shows secret %q:\n%s", secret, r.stdout)
			}
		}
		for _, want := range []string{"token: '***'", "postgres://herald:***@db:5432/herald"} {
			if strings.Count(r.stdout, want) < 1 {
				t.Errorf("output lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Count(r.stdout, "token: '***'") != 2 {
			t.Errorf("want both tokens shown as ***:\n%s", r.stdout)
		}
	})
	t.Run("environment overrides the file", func(t *testing.T) {
		p := write("db.yaml", "database: from-file.db\n")
		r := herald(t, map[string]string{"HERALD_CONFIG": p, "HERALD_DATABASE": "from-env.db"}, "config", "check")
		if !strings.Contains(r.stdout, "database: from-env.db") {
			t.Errorf("HERALD_DATABASE did not win:\n%s", r.stdout)
		}
	})
}

func TestFeedsRoundTripAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HERALD_DATABASE=" + filepath.Join(dir, "shared.db")}
	// --no-fetch: this test is about the database shared by processes;
	// fetching on add has tests of its own.
	r := heraldProcess(t, dir, env, "feeds", "add", "https://News.Example/rss.xml", "--name", "example", "--no-fetch")
	if r.code != 0 {
		t.Fatalf("feeds add: %d %s", r.code, r.stderr)
	}
	r = heraldProcess(t, dir, env, "feeds", "add", "https://other.example/atom", "--no-fetch")
	if r.code != 0 {
		t.Fatalf("feeds add: %d %s", r.code, r.stderr)
	}
	r = heraldProcess(t, dir, env, "feeds", "add", "https://news.example/rss.xml", "--no-fetch")
	if r.code != 1 || !strings.Contains(r.stderr, "already added") {
		t.Errorf("adding a feed twice: code %d, stderr %q", r.code, r.stderr)
	}
	r = heraldProcess(t, dir, env, "feeds", "list", "--json")
	var feeds []feedJSON
	if err := json.Unmarshal([]byte(r.stdout), &feeds); err != nil {
		t.Fatalf("feeds list --json is not a JSON array: %v\n%s", err, r.stdout)
	}
	if len(feeds) != 2 || feeds[0].URL != "https://news.example/rss.xml" || feeds[0].Name != "example" ||
		feeds[0].Status != "new" || feeds[1].URL != "https://other.example/atom" {
		t.Fatalf("feeds = %+v", feeds)
	}
	var raw []map[string]any
	json.Unmarshal([]byte(r.stdout), &raw)
	for _, key := range []string{"id", "url", "title", "status", "last_error", "articles"} {
		if _, ok := raw[0][key]; !ok {
			t.Errorf("feeds list --json lacks %q", key)
		}
	}
	r = heraldProcess(t, dir, env, "feeds", "remove", "https://news.example/rss.xml")
	if r.code != 0 {
		t.Fatalf("remove by URL: %d %s", r.code, r.stderr)
	}
	r = heraldProcess(t, dir, env, "feeds", "remove", "2")
	if r.code != 0 {
		t.Fatalf("remove by ID: %d %s", r.code, r.stderr)
	}
	r = heraldProcess(t, dir, env, "feeds", "remove", "2")
	if r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("removing a missing feed: code %d, stderr %q", r.code, r.stderr)
	}
	r = heraldProcess(t, dir, env, "feeds", "list", "--json")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("after removing both feeds list = %q, want []", r.stdout)
	}
}

func TestNewerDatabaseIsRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	if r := herald(t, map[string]string{"HERALD_DATABASE": db}, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	bumpSchema(t, db)
	r := herald(t, map[string]string{"HERALD_DATABASE": db}, "feeds", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "newer than this Herald supports") {
		t.Errorf("code %d, stderr %q", r.code, r.stderr)
	}
}
