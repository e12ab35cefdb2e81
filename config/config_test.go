package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-c50b6fda/herald/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(tb testing.TB, body string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "f")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func problems(tb testing.TB, err error) []string {
	tb.Helper()
	var ce *config.Error
	if !errors.As(err, &ce) {
		tb.Fatalf("error %v is not a *config.Error", err)
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := config.Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "herald.db" || cfg.Fetch.Concurrency != 16 || cfg.Fetch.PerHost != 2 || cfg.Cluster.Window != 72*time.Hour {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestLayering(t *testing.T) {
	file := writeFile(t, "database: file.db\nfetch:\n  concurrency: 4\n  timeout: 10s\n")
	cfg, err := config.Load(file, env(map[string]string{"HERALD_FETCH_CONCURRENCY": "8", "HERALD_FETCH_ALLOW_PRIVATE": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "file.db" || cfg.Fetch.Concurrency != 8 || cfg.Fetch.Timeout != 10*time.Second || !cfg.Fetch.AllowPrivate {
		t.Errorf("file then env: %+v", cfg)
	}
}

func TestEveryProblemReported(t *testing.T) {
	file := writeFile(t, "fetch:\n  concurency: 4\n  timeout: -1s\ndigest:\n  time_zone: Mars/Olympus\n  limit: 0\nlog:\n  format: xml\n")
	_, err := config.Load(file, env(map[string]string{"HERALD_HTTP_ADDR": ":8080", "HERALD_FETCH_PER_HOST": "two"}))
	got := strings.Join(problems(t, err), "\n")
	for _, want := range []string{
		"fetch.concurency: unknown key (line 2)",
		`fetch.timeout: must be positive (got "-1s")`,
		`digest.time_zone: must be an IANA time zone`,
		`digest.limit: must be between 1 and 50 (got "0")`,
		`log.format: must be text or json (got "xml")`,
		`HERALD_FETCH_PER_HOST: not a whole number (got "two")`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestSecretsFromFilesAndRedaction(t *testing.T) {
	tg := writeFile(t, "12345:telegram-token\n")
	dsn := writeFile(t, "postgres://herald:hunter2@db.internal:5432/herald?sslmode=require")
	cfg, err := config.Load("", env(map[string]string{
		"HERALD_TELEGRAM_TOKEN_FILE": tg, "HERALD_DATABASE_FILE": dsn, "HERALD_DISCORD_TOKEN": "discord-token",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Token.Reveal() != "12345:telegram-token" || !strings.Contains(cfg.Database.Reveal(), "hunter2") {
		t.Fatal("secrets were not read from their files")
	}
	dump, err := cfg.Dump()
	if err != nil {
		t.Fatal(err)
	}
	for _, shown := range []string{dump, fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Database)} {
		for _, secret := range []string{"telegram-token", "hunter2", "discord-token"} {
			if strings.Contains(shown, secret) {
				t.Errorf("secret %q shown in:\n%s", secret, shown)
			}
		}
	}
	if !strings.Contains(dump, "postgres://herald:***@db.internal:5432/herald?sslmode=require") {
		t.Errorf("database URL not shown with only its password hidden:\n%s", dump)
	}

	_, err = config.Load("", env(map[string]string{"HERALD_DISCORD_TOKEN_FILE": "/nonexistent/token"}))
	if got := strings.Join(problems(t, err), "\n"); !strings.Contains(got, "discord.token_file") || !strings.Contains(got, "cannot read secret file") {
		t.Errorf("missing secret file: %s", got)
	}
}

func TestBadYAMLSyntax(t *testing.T) {
	_, err := config.Load(writeFile(t, "fetch: [unclosed\n"), env(nil))
	if got := strings.Join(problems(t, err), "\n"); !strings.Contains(got, "config file") {
		t.Errorf("syntax error: %s", got)
	}
}

func TestChatPlatformSettings(t *testing.T) {
	_, err := config.Load("", env(map[string]string{
		"HERALD_TELEGRAM_WEBHOOK_URL": "http://insecure.example/hook", "HERALD_TELEGRAM_WEBHOOK_LISTEN": ":8443",
		"HERALD_TELEGRAM_WEBHOOK_SECRET": "short", "HERALD_DISCORD_SHARD_ID": "2", "HERALD_DISCORD_SHARD_COUNT": "2",
	}))
	got := strings.Join(problems(t, err), "\n")
	for _, want := range []string{"telegram.webhook_url: must be a public https URL", "telegram.webhook_secret: webhook mode needs a secret",
		`discord.shard_id: shard_id must be at least 0 and below shard_count`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "short") {
		t.Errorf("the webhook secret is shown:\n%s", got)
	}
	cfg, err := config.Load("", env(map[string]string{
		"HERALD_TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram", "HERALD_TELEGRAM_WEBHOOK_LISTEN": ":8443",
		"HERALD_TELEGRAM_WEBHOOK_SECRET": "a-long-enough_secret-123", "HERALD_DISCORD_SHARD_ID": "1", "HERALD_DISCORD_SHARD_COUNT": "2",
	}))
	if err != nil || cfg.Discord.ShardID != 1 || cfg.Telegram.WebhookSecret.Reveal() != "a-long-enough_secret-123" {
		t.Errorf("valid platform settings: %+v, %v", cfg, err)
	}
}

func TestDSNRedaction(t *testing.T) {
	for _, tc := range []struct {
		dsn, want string
	}{
		{"postgres://herald:s3cret@db:5432/herald", "postgres://herald:***@db:5432/herald"},
		{"postgres://herald@db/herald?password=s3cret&sslmode=require", "postgres://herald@db/herald?password=***&sslmode=require"},
		{"postgresql://db/herald?sslpassword=s3cret", "postgresql://db/herald?sslpassword=***"},
		{"postgres://db/herald?sslmode=disable", "postgres://db/herald?sslmode=disable"},
		{"host=db user=herald password=s3cret dbname=herald", "host=db user=herald password=*** dbname=herald"},
		{"host=db password = 'a b s3cret' dbname=herald", "host=db password = *** dbname=herald"},
		{"/data/herald.db", "/data/herald.db"},
	} {
		got := config.DSN(tc.dsn).String()
		if got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("DSN(%q).String() = %q, want %q", tc.dsn, got, tc.want)
		}
		if strings.Contains(fmt.Sprintf("%#v %v", config.DSN(tc.dsn), config.DSN(tc.dsn)), "s3cret") {
			t.Errorf("%q leaks through fmt", tc.dsn)
		}
	}
}

func TestKeywordDSNRefused(t *testing.T) {
	_, err := config.Load("", env(map[string]string{"HERALD_DATABASE": "host=db dbname=herald password=s3cret"}))
	if err == nil || !strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Load with a keyword=value DSN = %v; want a problem that asks for a postgres:// URL and hides the password", err)
	}
}
