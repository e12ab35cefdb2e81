// Package config owns Herald's configuration: the Config struct and its
// defaults, loading from a YAML file and HERALD_* environment variables,
// secrets from *_FILE paths, validation that reports every problem at once,
// and redaction so that a dump or log line never shows a secret.
//
// Only cmd/herald imports this package; it passes plain values into the
// constructors of the other packages.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Secret is a value that must never be printed. Its String and YAML forms
// are "***" when set.
type Secret string

// String implements fmt.Stringer with the redacted form.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString keeps %#v from leaking the value.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalYAML writes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// DSN is a database address: a SQLite file path or a postgres:// URL. Its
// String and YAML forms hide the password a URL may carry.
type DSN string

// String implements fmt.Stringer with the password redacted.
func (d DSN) String() string { return redactURL(string(d)) }

// GoString keeps %#v from leaking the password.
func (d DSN) GoString() string { return strconv.Quote(d.String()) }

// MarshalYAML writes the redacted form.
func (d DSN) MarshalYAML() (any, error) { return d.String(), nil }

// Reveal returns the address with its password, for the one place that
// opens the database.
func (d DSN) Reveal() string { return string(d) }

// IsPostgres reports whether the address is a PostgreSQL URL.
func (d DSN) IsPostgres() bool {
	return strings.HasPrefix(string(d), "postgres://") || strings.HasPrefix(string(d), "postgresql://")
}

// Config is Herald's whole configuration.
type Config struct {
	// Database is a SQLite file path or a postgres:// URL.
	Database     DSN    `yaml:"database"`
	DatabaseFile string `yaml:"database_file"`
	// HTTPAddr is where /metrics, /healthz and /readyz listen; empty
	// disables the server.
	HTTPAddr string `yaml:"http_addr"`

	Log      LogConfig      `yaml:"log"`
	Fetch    FetchConfig    `yaml:"fetch"`
	Cluster  ClusterConfig  `yaml:"cluster"`
	Digest   DigestConfig   `yaml:"digest"`
	Telegram TelegramConfig `yaml:"telegram"`
	Discord  DiscordConfig  `yaml:"discord"`
	Replicas ReplicasConfig `yaml:"replicas"`
}

// ReplicasConfig tunes how processes sharing one database divide the work.
type ReplicasConfig struct {
	// Lease is how long a process holds a piece of work (a feed, a chat,
	// a digest slot, the clusterer) without renewing it: how long the
	// work of a process that died waits before another takes it over.
	Lease time.Duration `yaml:"lease"`
}

// LogConfig sets up log/slog.
type LogConfig struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// FetchConfig tunes feed fetching and polling.
type FetchConfig struct {
	UserAgent     string        `yaml:"user_agent"`
	Timeout       time.Duration `yaml:"timeout"`         // whole request
	MaxBodyBytes  int64         `yaml:"max_body_bytes"`  // after decompression
	AllowPrivate  bool          `yaml:"allow_private"`   // fetch loopback and private addresses
	Concurrency   int           `yaml:"concurrency"`     // feeds fetched at once
	PerHost       int           `yaml:"per_host"`        // feeds fetched at once from one host
	MinInterval   time.Duration `yaml:"min_interval"`    // shortest time between two fetches of a feed
	MaxInterval   time.Duration `yaml:"max_interval"`    // longest time between two fetches of a feed
	PollEvery     time.Duration `yaml:"poll_every"`      // how often the daemon looks for due feeds
	RetainArticle time.Duration `yaml:"retain_articles"` // 0 keeps articles for ever
}

// ClusterConfig tunes story clustering.
type ClusterConfig struct {
	Window time.Duration `yaml:"window"` // how far back an article may join a story
}

// DigestConfig sets digest defaults.
type DigestConfig struct {
	Limit    int           `yaml:"limit"`     // stories per digest
	Schedule string        `yaml:"schedule"`  // default cron schedule for new subscriptions
	TimeZone string        `yaml:"time_zone"` // default time zone for new subscriptions
	Grace    time.Duration `yaml:"grace"`     // missed slots younger than this are sent at start
}

// TelegramConfig configures the Telegram adapter; it runs when Token is set.
type TelegramConfig struct {
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	APIURL    string `yaml:"api_url"` // Bot API base, for self-hosted Bot API servers

	// Webhook mode: Telegram posts updates to WebhookURL, which reaches
	// Herald at WebhookListen. Needed with several replicas; long polling
	// otherwise.
	WebhookURL        string `yaml:"webhook_url"`
	WebhookListen     string `yaml:"webhook_listen"`
	WebhookSecret     Secret `yaml:"webhook_secret"`
	WebhookSecretFile string `yaml:"webhook_secret_file"`
}

// DiscordConfig configures the Discord adapter; it runs when Token is set.
type DiscordConfig struct {
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	APIURL    string `yaml:"api_url"`  // REST base, for REST proxies
	GuildID   string `yaml:"guild_id"` // register commands in this guild only (fast to update while testing)

	ShardID    int `yaml:"shard_id"`    // this process's gateway shard
	ShardCount int `yaml:"shard_count"` // shards in all; 1 for one process
}

// Default returns the configuration used when nothing overrides it.
func Default() Config {
	return Config{
		Database: "herald.db",
		Log:      LogConfig{Format: "text", Level: "info"},
		Fetch: FetchConfig{
			UserAgent:    "Herald/1.0 (+https://github.com/seed-c50b6fda/herald; news digest bot)",
			Timeout:      30 * time.Second,
			MaxBodyBytes: 10 << 20,
			Concurrency:  16,
			PerHost:      2,
			MinInterval:  15 * time.Minute,
			MaxInterval:  24 * time.Hour,
			PollEvery:    time.Minute,
		},
		Cluster: ClusterConfig{Window: 72 * time.Hour},
		Digest: DigestConfig{
			Limit:    10,
			Schedule: "0 8 * * *",
			TimeZone: "UTC",
			Grace:    6 * time.Hour,
		},
		Telegram: TelegramConfig{APIURL: "https://api.telegram.org"},
		Discord:  DiscordConfig{APIURL: "https://discord.com/api/v10", ShardCount: 1},
		Replicas: ReplicasConfig{Lease: 30 * time.Second},
	}
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	Field string // YAML path or environment variable, e.g. "fetch.timeout"
	Value string // the offending value, redacted if secret
	Msg   string
}

func (p Problem) String() string {
	if p.Value == "" {
		return fmt.Sprintf("%s: %s", p.Field, p.Msg)
	}
	return fmt.Sprintf("%s: %s (got %q)", p.Field, p.Msg, p.Value)
}

// Error lists every problem found while loading a configuration.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("invalid configuration (%d problem(s)):\n  %s", len(e.Problems), strings.Join(lines, "\n  "))
}

// Load builds the configuration: defaults, then the YAML file at path (none
// when empty), then the HERALD_* variables from getenv, then secrets from
// *_FILE paths, then validation. Every problem found is reported in one
// *Error.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	var problems []Problem
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		problems = append(problems, decodeYAML(data, &cfg)...)
	}
	problems = append(problems, applyEnv(&cfg, getenv)...)
	problems = append(problems, readSecretFiles(&cfg)...)
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		return cfg, &Error{Problems: problems}
	}
	return cfg, nil
}

// decodeYAML decodes data into cfg, rejecting unknown keys. yaml.v3 collects
// every unknown key and type mismatch of a document in one TypeError, with
// line numbers only; the node tree maps those lines back to key paths.
func decodeYAML(data []byte, cfg *Config) []Problem {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return []Problem{{Field: "config file", Msg: err.Error()}}
	}
	lines := map[int]keyAt{}
	indexKeys(&root, "", lines)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []Problem{{Field: "config file", Msg: err.Error()}}
	}
	problems := make([]Problem, 0, len(te.Errors))
	for _, msg := range te.Errors {
		problems = append(problems, yamlProblem(msg, lines))
	}
	return problems
}

// keyAt is a mapping key found on some line of the document.
type keyAt struct {
	path  string // dotted path, e.g. "fetch.timeout"
	value string // scalar value, if any
}

func indexKeys(n *yaml.Node, prefix string, lines map[int]keyAt) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			indexKeys(c, prefix, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := k.Value
			if prefix != "" {
				path = prefix + "." + k.Value
			}
			val := ""
			if v.Kind == yaml.ScalarNode {
				val = v.Value
			}
			lines[k.Line] = keyAt{path: path, value: val}
			indexKeys(v, path, lines)
		}
	}
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlProblem turns a yaml.v3 message such as
// "line 3: field colour not found in type config.LogConfig" into a Problem
// that names the key path and its value.
func yamlProblem(msg string, lines map[int]keyAt) Problem {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return Problem{Field: "config file", Msg: msg}
	}
	n, _ := strconv.Atoi(m[1])
	k, ok := lines[n]
	if !ok {
		return Problem{Field: "config file", Msg: msg}
	}
	text := m[2]
	if strings.HasPrefix(text, "field ") && strings.Contains(text, " not found in type ") {
		return Problem{Field: k.path, Msg: "unknown key (line " + m[1] + ")"}
	}
	if i := strings.Index(text, " into "); i >= 0 {
		text = "must be a " + typeWord(text[i+len(" into "):]) + " (line " + m[1] + ")"
	}
	if strings.HasSuffix(k.path, "token") {
		k.value = Secret(k.value).String()
	}
	return Problem{Field: k.path, Value: k.value, Msg: text}
}

// typeWord names a Go type the way a person writing YAML thinks of it.
func typeWord(goType string) string {
	switch goType {
	case "time.Duration":
		return "duration such as 30s, 15m or 24h"
	case "int", "int64":
		return "whole number"
	case "bool":
		return "boolean (true or false)"
	default:
		return "value of type " + goType
	}
}

// envVar binds one HERALD_* variable to a field.
type envVar struct {
	name string
	set  func(cfg *Config, v string) error
}

func stringVar(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func secretVar(p func(*Config) *Secret) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = Secret(v); return nil }
}

func durationVar(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("not a duration such as 30s, 15m or 24h")
		}
		*p(c) = d
		return nil
	}
}

func intVar(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("not a whole number")
		}
		*p(c) = n
		return nil
	}
}

func boolVar(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("not a boolean (1, 0, true, false)")
		}
		*p(c) = b
		return nil
	}
}

// envVars lists every environment variable Herald reads, besides
// HERALD_CONFIG (read by the command line) and the *_FILE forms.
var envVars = []envVar{
	{"HERALD_DATABASE", func(c *Config, v string) error { c.Database = DSN(v); return nil }},
	{"HERALD_DATABASE_FILE", stringVar(func(c *Config) *string { return &c.DatabaseFile })},
	{"HERALD_HTTP_ADDR", stringVar(func(c *Config) *string { return &c.HTTPAddr })},
	{"HERALD_LOG_FORMAT", stringVar(func(c *Config) *string { return &c.Log.Format })},
	{"HERALD_LOG_LEVEL", stringVar(func(c *Config) *string { return &c.Log.Level })},
	{"HERALD_FETCH_ALLOW_PRIVATE", boolVar(func(c *Config) *bool { return &c.Fetch.AllowPrivate })},
	{"HERALD_FETCH_TIMEOUT", durationVar(func(c *Config) *time.Duration { return &c.Fetch.Timeout })},
	{"HERALD_FETCH_CONCURRENCY", intVar(func(c *Config) *int { return &c.Fetch.Concurrency })},
	{"HERALD_FETCH_PER_HOST", intVar(func(c *Config) *int { return &c.Fetch.PerHost })},
	{"HERALD_FETCH_MIN_INTERVAL", durationVar(func(c *Config) *time.Duration { return &c.Fetch.MinInterval })},
	{"HERALD_CLUSTER_WINDOW", durationVar(func(c *Config) *time.Duration { return &c.Cluster.Window })},
	{"HERALD_DIGEST_LIMIT", intVar(func(c *Config) *int { return &c.Digest.Limit })},
	{"HERALD_DIGEST_TIME_ZONE", stringVar(func(c *Config) *string { return &c.Digest.TimeZone })},
	{"HERALD_TELEGRAM_TOKEN", secretVar(func(c *Config) *Secret { return &c.Telegram.Token })},
	{"HERALD_TELEGRAM_TOKEN_FILE", stringVar(func(c *Config) *string { return &c.Telegram.TokenFile })},
	{"HERALD_TELEGRAM_API_URL", stringVar(func(c *Config) *string { return &c.Telegram.APIURL })},
	{"HERALD_TELEGRAM_WEBHOOK_URL", stringVar(func(c *Config) *string { return &c.Telegram.WebhookURL })},
	{"HERALD_TELEGRAM_WEBHOOK_LISTEN", stringVar(func(c *Config) *string { return &c.Telegram.WebhookListen })},
	{"HERALD_TELEGRAM_WEBHOOK_SECRET", secretVar(func(c *Config) *Secret { return &c.Telegram.WebhookSecret })},
	{"HERALD_TELEGRAM_WEBHOOK_SECRET_FILE", stringVar(func(c *Config) *string { return &c.Telegram.WebhookSecretFile })},
	{"HERALD_DISCORD_TOKEN", secretVar(func(c *Config) *Secret { return &c.Discord.Token })},
	{"HERALD_DISCORD_TOKEN_FILE", stringVar(func(c *Config) *string { return &c.Discord.TokenFile })},
	{"HERALD_DISCORD_API_URL", stringVar(func(c *Config) *string { return &c.Discord.APIURL })},
	{"HERALD_DISCORD_GUILD_ID", stringVar(func(c *Config) *string { return &c.Discord.GuildID })},
	{"HERALD_DISCORD_SHARD_ID", intVar(func(c *Config) *int { return &c.Discord.ShardID })},
	{"HERALD_DISCORD_SHARD_COUNT", intVar(func(c *Config) *int { return &c.Discord.ShardCount })},
	{"HERALD_REPLICAS_LEASE", durationVar(func(c *Config) *time.Duration { return &c.Replicas.Lease })},
}

// EnvVars returns the names of the environment variables Load reads.
func EnvVars() []string {
	names := []string{"HERALD_CONFIG"}
	for _, v := range envVars {
		names = append(names, v.name)
	}
	return names
}

func applyEnv(cfg *Config, getenv func(string) string) []Problem {
	var problems []Problem
	for _, v := range envVars {
		val := getenv(v.name)
		if val == "" {
			continue
		}
		if err := v.set(cfg, val); err != nil {
			shown := val
			if strings.HasSuffix(v.name, "_TOKEN") {
				shown = Secret(val).String()
			}
			problems = append(problems, Problem{Field: v.name, Value: shown, Msg: err.Error()})
		}
	}
	return problems
}

// readSecretFiles fills secrets from their *_file paths; a file wins over
// a value set directly, since mounting a secret file is the deliberate act.
func readSecretFiles(cfg *Config) []Problem {
	var problems []Problem
	for _, s := range []struct {
		field string
		file  string
		dst   *Secret
	}{
		{"telegram.token_file", cfg.Telegram.TokenFile, &cfg.Telegram.Token},
		{"telegram.webhook_secret_file", cfg.Telegram.WebhookSecretFile, &cfg.Telegram.WebhookSecret},
		{"discord.token_file", cfg.Discord.TokenFile, &cfg.Discord.Token},
	} {
		if s.file == "" {
			continue
		}
		data, err := os.ReadFile(s.file)
		if err != nil {
			problems = append(problems, Problem{Field: s.field, Value: s.file, Msg: "cannot read secret file: " + errors.Unwrap(err).Error()})
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			problems = append(problems, Problem{Field: s.field, Value: s.file, Msg: "secret file is empty"})
			continue
		}
		*s.dst = Secret(v)
	}
	if cfg.DatabaseFile != "" {
		data, err := os.ReadFile(cfg.DatabaseFile)
		switch {
		case err != nil:
			problems = append(problems, Problem{Field: "database_file", Value: cfg.DatabaseFile, Msg: "cannot read secret file: " + errors.Unwrap(err).Error()})
		case strings.TrimSpace(string(data)) == "":
			problems = append(problems, Problem{Field: "database_file", Value: cfg.DatabaseFile, Msg: "secret file is empty"})
		default:
			cfg.Database = DSN(strings.TrimSpace(string(data)))
		}
	}
	return problems
}

func (c *Config) validate() []Problem {
	var p []Problem
	bad := func(field string, value any, msg string) {
		p = append(p, Problem{Field: field, Value: fmt.Sprint(value), Msg: msg})
	}
	if c.Database == "" {
		bad("database", "", "must be a SQLite file path or a postgres:// URL")
	} else if keywordDSN(string(c.Database)) {
		bad("database", c.Database, "keyword=value connection strings are not supported; write a postgres:// URL, "+
			"e.g. postgres://user:password@host:5432/dbname?sslmode=require")
	} else if strings.Contains(string(c.Database), "://") {
		u, err := url.Parse(string(c.Database))
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("database", c.Database, "only postgres:// URLs are supported; use a file path for SQLite")
		}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", c.Log.Format, "must be text or json")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", c.Log.Level, "must be debug, info, warn or error")
	}
	if c.Fetch.Timeout <= 0 {
		bad("fetch.timeout", c.Fetch.Timeout, "must be positive")
	}
	if c.Fetch.MaxBodyBytes < 1024 {
		bad("fetch.max_body_bytes", c.Fetch.MaxBodyBytes, "must be at least 1024")
	}
	if c.Fetch.Concurrency < 1 || c.Fetch.Concurrency > 1024 {
		bad("fetch.concurrency", c.Fetch.Concurrency, "must be between 1 and 1024")
	}
	if c.Fetch.PerHost < 1 {
		bad("fetch.per_host", c.Fetch.PerHost, "must be at least 1")
	}
	if c.Fetch.MinInterval < time.Minute {
		bad("fetch.min_interval", c.Fetch.MinInterval, "must be at least 1m")
	}
	if c.Fetch.MaxInterval < c.Fetch.MinInterval {
		bad("fetch.max_interval", c.Fetch.MaxInterval, "must not be shorter than fetch.min_interval")
	}
	if c.Fetch.PollEvery < time.Second {
		bad("fetch.poll_every", c.Fetch.PollEvery, "must be at least 1s")
	}
	if c.Fetch.RetainArticle < 0 {
		bad("fetch.retain_articles", c.Fetch.RetainArticle, "must not be negative")
	}
	if c.Replicas.Lease < time.Second || c.Replicas.Lease > 10*time.Minute {
		bad("replicas.lease", c.Replicas.Lease, "must be between 1s and 10m")
	}
	if c.Cluster.Window < time.Hour {
		bad("cluster.window", c.Cluster.Window, "must be at least 1h")
	}
	if c.Digest.Limit < 1 || c.Digest.Limit > 50 {
		bad("digest.limit", c.Digest.Limit, "must be between 1 and 50")
	}
	if _, err := time.LoadLocation(c.Digest.TimeZone); err != nil || c.Digest.TimeZone == "" {
		bad("digest.time_zone", c.Digest.TimeZone, "must be an IANA time zone such as Europe/Berlin")
	}
	if c.Digest.Grace < 0 {
		bad("digest.grace", c.Digest.Grace, "must not be negative")
	}
	for _, u := range []struct{ field, v string }{
		{"telegram.api_url", c.Telegram.APIURL},
		{"discord.api_url", c.Discord.APIURL},
	} {
		pu, err := url.Parse(u.v)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			bad(u.field, u.v, "must be an http or https URL")
		}
	}
	if (c.Telegram.WebhookURL == "") != (c.Telegram.WebhookListen == "") {
		bad("telegram.webhook_listen", c.Telegram.WebhookListen, "webhook_url and webhook_listen go together: set both for webhook mode, neither for long polling")
	}
	if c.Telegram.WebhookURL != "" {
		if u, err := url.Parse(c.Telegram.WebhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("telegram.webhook_url", c.Telegram.WebhookURL, "must be a public https URL")
		}
		if sec := c.Telegram.WebhookSecret.Reveal(); len(sec) < 16 || len(sec) > 256 ||
			strings.Trim(sec, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
			bad("telegram.webhook_secret", c.Telegram.WebhookSecret, "webhook mode needs a secret of 16 to 256 letters, digits, _ and -")
		}
	}
	if c.Discord.ShardCount < 1 || c.Discord.ShardID < 0 || c.Discord.ShardID >= c.Discord.ShardCount {
		bad("discord.shard_id", fmt.Sprintf("%d of %d", c.Discord.ShardID, c.Discord.ShardCount),
			"shard_id must be at least 0 and below shard_count, which must be at least 1")
	}
	return p
}

func redactURL(s string) string {
	if keywordDSN(s) {
		return kvPassword.ReplaceAllString(s, "${1}***")
	}
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "://") && (strings.Contains(s, "@") || strings.Contains(s, "password")) {
			return "***" // unparsable but may hold credentials
		}
		return s
	}
	redacted := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "***")
			redacted = true
		}
	}
	// libpq also takes the password as a query parameter.
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "***")
			}
		}
		u.RawQuery = q.Encode()
		redacted = true
	}
	if !redacted {
		return s
	}
	return strings.ReplaceAll(u.String(), "%2A%2A%2A", "***")
}

// kvPassword finds the password in a keyword=value connection string.
var kvPassword = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// keywordDSN reports whether s looks like a libpq keyword=value connection
// string ("host=db dbname=herald"), which Herald does not take: it would
// otherwise be read as a SQLite file name.
func keywordDSN(s string) bool {
	if strings.Contains(s, "://") {
		return false
	}
	for _, k := range []string{"host=", "hostaddr=", "dbname=", "user=", "password=", "port=", "sslmode="} {
		if strings.HasPrefix(s, k) || strings.Contains(s, " "+k) {
			return true
		}
	}
	return false
}

// Dump returns the effective configuration as YAML with every secret
// redacted.
func (c Config) Dump() (string, error) {
	out, err := yaml.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("dump config: %w", err)
	}
	return string(out), nil
}
