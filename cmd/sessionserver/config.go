package main

// Configuration of the server: one Config struct bound to a flag.FlagSet,
// each flag with an environment variable beside it.
//
//	cfg, err := ParseServe(os.Args[1:], os.LookupEnv, os.Stderr)
//	switch {
//	case errors.Is(err, flag.ErrHelp): // usage already printed
//	case err != nil: // one line naming the flag or variable; exit 2
//	}
//	verifier, err := cfg.Verifier() // public key, -jwt-secret, or <data-dir>/jwt.secret
//
// Values come from DefaultConfig, then the environment, then the command
// line, so a flag wins over its variable. Environment values go through
// the same flag.Value parsers as flags. A variable set to the empty string
// counts as unset (as `VAR=` in a compose file usually means).

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sessionserver/sessionserver/actors"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/http/auth"
	"github.com/sessionserver/sessionserver/http/isotime"
)

// ErrConfig marks a configuration the server refuses to start with.
var ErrConfig = errors.New("config: invalid")

// ErrCannotSign is returned by SigningSecret when the server verifies
// tokens with a public key: tokens must then be signed by its private key.
var ErrCannotSign = errors.New("config: cannot sign tokens when -jwt-public-key is set; sign them with its private key")

// FsyncMode says when the append log is fsynced (CONTRACT.md section 8).
type FsyncMode string

// The fsync modes.
const (
	FsyncAlways   FsyncMode = "always"   // fsync before every answer (group commit)
	FsyncEverySec FsyncMode = "everysec" // write(2) before the answer, fsync about once a second
	FsyncNo       FsyncMode = "no"       // write(2) before the answer, fsync left to the OS
)

// ParseFsyncMode reads a mode name, in any letter case.
func ParseFsyncMode(s string) (FsyncMode, error) {
	m := FsyncMode(strings.ToLower(s))
	return m, m.check()
}

func (m FsyncMode) check() error {
	switch m {
	case FsyncAlways, FsyncEverySec, FsyncNo:
		return nil
	}
	return errors.New("want always, everysec or no")
}

// String returns the mode name.
func (m FsyncMode) String() string { return string(m) }

// Set implements flag.Value.
func (m *FsyncMode) Set(s string) error {
	v, err := ParseFsyncMode(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Config is everything `sessionserver` (the server) is started with.
// The zero value is not usable; start from DefaultConfig or ParseServe.
type Config struct {
	Addr             string        // listen address, host:port
	DataDir          string        // append log, snapshots and the generated jwt.secret
	JWTSecret        auth.Secret   // HS256 secret; "" means the generated one in DataDir
	JWTPublicKey     string        // path to a PEM public key; excludes JWTSecret
	Fsync            FsyncMode     // when the append log is fsynced
	SnapshotInterval time.Duration // between snapshots; 0 disables the timer
	SessionTimeout   time.Duration // idle time after which a session is ended; 0 disables
	Retention        time.Duration // how long ended sessions and page tracks are kept; 0 keeps everything
	PublicEndpoints  bool          // false makes public-summary and public-timeline answer 404
	CORSOrigins      []string      // allowed origins, canonical ("https://a.example"), or just "*"; empty means no CORS headers
	LogLevel         slog.Level    // debug, info, warn or error
	LogFormat        string        // "text" or "json"
	PublicRateLimit  float64       // requests per second per client address on public endpoints; 0 is off
	DebugAddr        string        // address of the profiling listener; "" is off
	MaxConnsPerIP    int           // open connections per client address; 0 is no limit
	MaxPublicApps    int           // apps that page tracks without a token may make; 0 refuses every new one
	Cluster          ClusterConfig // empty Name: a single node
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:             ":8000",
		DataDir:          "./data",
		Fsync:            FsyncEverySec,
		SnapshotInterval: 5 * time.Minute,
		SessionTimeout:   24 * time.Hour,
		PublicEndpoints:  true,
		LogLevel:         slog.LevelInfo,
		LogFormat:        "text",
		MaxConnsPerIP:    sshttp.DefaultMaxConnsPerIP,
		MaxPublicApps:    actors.DefaultMaxPublicApps,
	}
}

// binding ties a Config field to its flag and environment variable.
type binding struct {
	name, env, usage string
	value            flag.Value
}

// bindings lists every field of c with its flag, variable and parser.
func (c *Config) bindings() []binding {
	return append([]binding{
		{"addr", "SESSION_ADDR", "listen `address` (host:port)", &value[string]{&c.Addr, parseAddr, ident}},
		{"data-dir", "SESSION_DATA_DIR", "`folder` of the append log, snapshots and generated jwt.secret", &value[string]{&c.DataDir, parseDataDir, ident}},
		{"jwt-secret", "SESSION_JWT_SECRET", "HS256 `secret`; default: generated in <data-dir>/jwt.secret", &value[auth.Secret]{&c.JWTSecret, parseSecret, formatSecret}},
		{"jwt-public-key", "SESSION_JWT_PUBLIC_KEY", "`path` to a PEM public key (RSA, ECDSA or Ed25519) that tokens must be signed for", &value[string]{&c.JWTPublicKey, parsePath, ident}},
		{"fsync", "SESSION_FSYNC", "log fsync `mode`: always, everysec or no", &c.Fsync},
		{"snapshot-interval", "SESSION_SNAPSHOT_INTERVAL", "`duration` between snapshots; 0 disables", &value[time.Duration]{&c.SnapshotInterval, parseDuration, time.Duration.String}},
		{"session-timeout", "SESSION_TIMEOUT", "idle `duration` after which a session is ended; 0 disables", &value[time.Duration]{&c.SessionTimeout, parseDuration, time.Duration.String}},
		{"retention", "SESSION_RETENTION", "how long ended sessions and page tracks are kept (`duration`: 90d, 2160h, 30s); 0 keeps everything; apps may set their own", &value[time.Duration]{&c.Retention, isotime.ParseDuration, time.Duration.String}},
		{"public-endpoints", "SESSION_PUBLIC_ENDPOINTS", "serve public-summary and public-timeline", &boolValue{value[bool]{&c.PublicEndpoints, strconv.ParseBool, strconv.FormatBool}}},
		{"cors-origins", "SESSION_CORS_ORIGINS", "comma-separated allowed `origins`, or *; empty sends no CORS headers", &value[[]string]{&c.CORSOrigins, parseOrigins, formatOrigins}},
		{"log-level", "SESSION_LOG_LEVEL", "log `level`: debug, info, warn or error", &value[slog.Level]{&c.LogLevel, parseLevel, formatLevel}},
		{"log-format", "SESSION_LOG_FORMAT", "log `format`: text or json", &value[string]{&c.LogFormat, parseLogFormat, ident}},
		{"public-rate-limit", "SESSION_PUBLIC_RATE_LIMIT", "`requests` per second per client address on the public endpoints; 0 is off", &value[float64]{&c.PublicRateLimit, parseRate, formatRate}},
		{"max-conns-per-ip", "SESSION_MAX_CONNS_PER_IP", "open `connections` one client address may hold (429 beyond); 0 is no limit; raise it behind a reverse proxy", &value[int]{&c.MaxConnsPerIP, parseCount, strconv.Itoa}},
		{"max-public-apps", "SESSION_MAX_PUBLIC_APPS", "most `apps` that page tracks without a token may create (403 beyond); 0: only a session start creates an app", &value[int]{&c.MaxPublicApps, parseCount, strconv.Itoa}},
		{"debug-addr", "SESSION_DEBUG_ADDR", "`address` (host:port) of a profiling listener (/debug/pprof/...); empty is off", &value[string]{&c.DebugAddr, parseDebugAddr, ident}},
	}, c.Cluster.bindings()...)
}

// AddFlags binds every field of c to fs. Each usage line names the
// environment variable of the flag.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	addBindings(fs, c.bindings())
}

func addBindings(fs *flag.FlagSet, bs []binding) {
	for _, b := range bs {
		fs.Var(b.value, b.name, b.usage+" (env "+b.env+")")
	}
}

// Validate checks every field and returns the first problem as an
// ErrConfig-wrapped one-line error naming the flag and its variable.
func (c *Config) Validate() error {
	checks := []struct {
		name string
		err  error
	}{
		{"addr", checkAddr(c.Addr)},
		{"data-dir", checkDataDir(c.DataDir)},
		{"fsync", c.Fsync.check()},
		{"snapshot-interval", checkDuration(c.SnapshotInterval)},
		{"session-timeout", checkDuration(c.SessionTimeout)},
		{"retention", checkDuration(c.Retention)},
		{"cors-origins", checkOrigins(c.CORSOrigins)},
		{"log-level", checkLevel(c.LogLevel)},
		{"log-format", checkLogFormat(c.LogFormat)},
		{"public-rate-limit", checkRate(c.PublicRateLimit)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, source(ch.name), ch.err)
		}
	}
	if c.JWTSecret != "" && c.JWTPublicKey != "" {
		return fmt.Errorf("%w: %s and %s are both set; use one", ErrConfig, source("jwt-secret"), source("jwt-public-key"))
	}
	return nil
}

// source names a flag and its variable: "-fsync (SESSION_FSYNC)".
func source(name string) string {
	for _, b := range (&Config{}).bindings() {
		if b.name == name {
			return "-" + name + " (" + b.env + ")"
		}
	}
	return "-" + name
}

// ParseServe builds the server's configuration: defaults, then the
// environment read through lookup (nil reads none), then the flags in
// args, then Validate. Every error is one line wrapping ErrConfig and
// naming the flag or variable. "-h" or "-help" prints the usage to stderr
// and returns flag.ErrHelp.
func ParseServe(args []string, lookup func(string) (string, bool), stderr io.Writer) (Config, error) {
	c := DefaultConfig()
	bs := c.bindings()
	fs := newFlagSet("sessionserver", bs)
	if err := parseFlags(fs, bs, args, lookup, stderr, serveUsage); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

const serveUsage = `Usage:
  sessionserver [flags]                   run the server (the flags below)
  sessionserver token -sub USER [flags]   print a token signed with the server's secret
  sessionserver dashboard [-app APP]      print the dashboard's URL with a short-lived admin token
  sessionserver export -app APP           write an app's export (NDJSON or CSV) from a stopped server's data folder
  sessionserver import -target URL FILE   stream an export into a running server (- for stdin)
  sessionserver verify [-data-dir DIR]    check a data folder, changing nothing (beside a running server too)
  sessionserver repair [-data-dir DIR]    cut a damaged log at its first bad record (server stopped)
  sessionserver help [command]            this help, or a command's

"sessionserver COMMAND -h" is the same as "sessionserver help COMMAND".

Every flag can be set by the environment variable named beside it;
a flag on the command line wins over its variable.

Flags:
`

// boolHint turns the flag package's complaint about the value after a
// bool flag ("-public-endpoints false": "false" is taken as an argument)
// into the way to write it.
func boolHint(fs *flag.FlagSet, args []string, err error) error {
	if err == nil || fs.NArg() == 0 {
		return err
	}
	v := fs.Arg(0)
	if _, perr := strconv.ParseBool(v); perr != nil {
		return err
	}
	for i := 1; i < len(args); i++ {
		if args[i] != v {
			continue
		}
		name := strings.TrimLeft(args[i-1], "-")
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				return fmt.Errorf("%w; -%s takes no separate value: write -%s=%s", err, name, name, v)
			}
		}
	}
	return err
}

// newFlagSet returns a FlagSet with bs bound that prints nothing: parse
// errors come back as values, and the caller prints the usage on -h.
func newFlagSet(name string, bs []binding) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	addBindings(fs, bs)
	return fs
}

// parseFlags applies the environment to fs, then parses args. On -h it
// prints header and the flags to stderr and returns flag.ErrHelp; an
// environment error comes before a flag error, and a positional
// argument is an error.
func parseFlags(fs *flag.FlagSet, bs []binding, args []string, lookup func(string) (string, bool), stderr io.Writer, header string) error {
	envErr := applyEnv(fs, bs, lookup)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stderr, fs, header)
		return flag.ErrHelp
	case envErr != nil:
		return envErr
	case err != nil:
		return err
	case fs.NArg() > 0:
		return boolHint(fs, args, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

func printUsage(w io.Writer, fs *flag.FlagSet, header string) {
	io.WriteString(w, header)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// applyEnv sets each bound flag whose variable lookup reports non-empty,
// through the flag's own parser. The error names the variable; it never
// repeats the value of a secret.
func applyEnv(fs *flag.FlagSet, bs []binding, lookup func(string) (string, bool)) error {
	if lookup == nil {
		return nil
	}
	for _, b := range bs {
		v, ok := lookup(b.env)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(b.name, v); err != nil {
			if _, secret := b.value.(*value[auth.Secret]); secret {
				return fmt.Errorf("%s: invalid value: %w", b.env, err)
			}
			return fmt.Errorf("%s: invalid value %q: %w", b.env, v, err)
		}
	}
	return nil
}

// Verifier returns the token verifier the server uses: the PEM public key
// at JWTPublicKey if set, else HS256 with JWTSecret if set, else HS256
// with the secret in <DataDir>/jwt.secret, created on first use.
func (c Config) Verifier() (*auth.Verifier, error) {
	if c.JWTPublicKey == "" {
		secret, err := c.SigningSecret()
		if err != nil {
			return nil, err
		}
		return auth.NewHS256(secret)
	}
	pem, err := os.ReadFile(c.JWTPublicKey)
	if err != nil {
		return nil, fmt.Errorf("config: reading -jwt-public-key: %w", err)
	}
	v, err := auth.NewFromPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("config: -jwt-public-key %s: %w", c.JWTPublicKey, err)
	}
	return v, nil
}

// SigningSecret returns the HS256 secret: JWTSecret if set, else the one
// in <DataDir>/jwt.secret, created on first use. With JWTPublicKey set it
// returns ErrCannotSign.
func (c Config) SigningSecret() ([]byte, error) {
	switch {
	case c.JWTPublicKey != "":
		return nil, ErrCannotSign
	case c.JWTSecret != "":
		return []byte(c.JWTSecret), nil
	}
	secret, err := auth.LoadOrCreateSecret(c.DataDir)
	if err != nil {
		return nil, fmt.Errorf("config: generated secret in %s: %w", c.DataDir, err)
	}
	return secret, nil
}

// LogValue implements slog.LogValuer. It names where the token key comes
// from and never the secret itself.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("data_dir", c.DataDir),
		slog.String("jwt", c.keySource()),
		slog.String("fsync", string(c.Fsync)),
		slog.Duration("snapshot_interval", c.SnapshotInterval),
		slog.Duration("session_timeout", c.SessionTimeout),
		slog.Duration("retention", c.Retention),
		slog.Bool("public_endpoints", c.PublicEndpoints),
		slog.String("cors_origins", formatOrigins(c.CORSOrigins)),
		slog.String("log_level", formatLevel(c.LogLevel)),
		slog.String("log_format", c.LogFormat),
		slog.Float64("public_rate_limit", c.PublicRateLimit),
		slog.String("debug_addr", c.DebugAddr),
		slog.Int("max_conns_per_ip", c.MaxConnsPerIP),
		slog.Int("max_public_apps", c.MaxPublicApps),
		slog.String("cluster", c.Cluster.Name),
	)
}

func (c Config) keySource() string {
	switch {
	case c.JWTPublicKey != "":
		return "public key " + c.JWTPublicKey
	case c.JWTSecret != "":
		return "secret from -jwt-secret"
	}
	return "secret in " + filepath.Join(c.DataDir, "jwt.secret")
}

// value is a flag.Value over a field of type T.
type value[T any] struct {
	p      *T
	parse  func(string) (T, error)
	format func(T) string
}

func (v *value[T]) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return v.format(*v.p)
}

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.p = x
	return nil
}

// boolValue lets "-public-endpoints" stand for "-public-endpoints=true".
type boolValue struct{ value[bool] }

func (*boolValue) IsBoolFlag() bool { return true }

func ident(s string) string { return s }

func parseAddr(s string) (string, error) { return s, checkAddr(s) }

// parseDebugAddr is parseAddr where empty (off) is allowed.
func parseDebugAddr(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return s, checkAddr(s)
}

func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port or :port: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

func parseDataDir(s string) (string, error) { return s, checkDataDir(s) }

func checkDataDir(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func parsePath(s string) (string, error) { return s, nil }

func parseSecret(s string) (auth.Secret, error) { return auth.Secret(s), nil }

// formatSecret never shows a secret: flag.Value.String output can end up
// in usage text and logs.
func formatSecret(s auth.Secret) string {
	if s == "" {
		return ""
	}
	return s.String()
}

// parseDuration reads a time.ParseDuration value and refuses negatives.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d, checkDuration(d)
}

func checkDuration(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%v is negative; use 0 to disable", d)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errors.New("want debug, info, warn or error")
}

func checkLevel(l slog.Level) error {
	switch l {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
		return nil
	}
	return fmt.Errorf("level %v is not debug, info, warn or error", l)
}

func formatLevel(l slog.Level) string { return strings.ToLower(l.String()) }

func parseLogFormat(s string) (string, error) {
	f := strings.ToLower(s)
	return f, checkLogFormat(f)
}

func checkLogFormat(f string) error {
	if f != "text" && f != "json" {
		return errors.New("want text or json")
	}
	return nil
}

// parseCount reads a whole number >= 0.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("want a whole number >= 0")
	}
	return n, nil
}

func parseRate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if ne := (*strconv.NumError)(nil); errors.As(err, &ne) {
		return 0, ne.Err // the flag error already quotes the value
	} else if err != nil {
		return 0, err
	}
	return r, checkRate(r)
}

func checkRate(r float64) error {
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return fmt.Errorf("%v is not a rate; want a number >= 0 (0 is off)", r)
	}
	return nil
}

func formatRate(r float64) string { return strconv.FormatFloat(r, 'g', -1, 64) }

// parseOrigins reads a comma-separated origin list: items trimmed, empty
// items dropped, each origin made canonical (lower case, no trailing "/").
// "*" must stand alone.
func parseOrigins(s string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		o, err := canonicalOrigin(item)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := checkWildcard(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkWildcard(origins []string) error {
	if len(origins) > 1 && strings.Contains(","+strings.Join(origins, ",")+",", ",*,") {
		return errors.New(`"*" must be the only origin`)
	}
	return nil
}

func checkOrigins(origins []string) error {
	for _, o := range origins {
		c, err := canonicalOrigin(o)
		if err != nil {
			return err
		}
		if c != o {
			return fmt.Errorf("origin %q is not canonical; want %q", o, c)
		}
	}
	return checkWildcard(origins)
}

func formatOrigins(origins []string) string { return strings.Join(origins, ",") }

// canonicalOrigin returns "*" or scheme://host[:port] as a browser sends
// it in the Origin header.
func canonicalOrigin(s string) (string, error) {
	if s == "*" {
		return s, nil
	}
	bad := fmt.Errorf("origin %q: want * or http(s)://host[:port]", s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
		u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", bad
	}
	host := strings.ToLower(u.Hostname())
	if !validHost(host) {
		return "", bad
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", bad
		}
		host += ":" + port
	} else if strings.HasSuffix(u.Host, ":") {
		return "", bad
	}
	return u.Scheme + "://" + host, nil
}

// validHost accepts an IP address or an ASCII DNS name (IDNs in their
// punycode form, as browsers send them).
func validHost(h string) bool {
	if h == "" {
		return false
	}
	if ip := net.ParseIP(h); ip != nil {
		return true
	}
	for _, r := range h {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '.' {
			return false
		}
	}
	return true
}
