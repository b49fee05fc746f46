package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionserver/sessionserver/http/auth"
)

// envMap is a lookup function over a map.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// fieldCases sets every field once: value is given to the flag or the
// variable, other is a second valid value, want is DefaultConfig after
// value was applied.
var fieldCases = []struct {
	flag, env    string
	value, other string
	want         func(c *Config)
}{
	{"addr", "SESSION_ADDR", "127.0.0.1:9000", ":1", func(c *Config) { c.Addr = "127.0.0.1:9000" }},
	{"data-dir", "SESSION_DATA_DIR", "/var/lib/sessions", "/tmp/x", func(c *Config) { c.DataDir = "/var/lib/sessions" }},
	{"jwt-secret", "SESSION_JWT_SECRET", "s3cret", "other", func(c *Config) { c.JWTSecret = "s3cret" }},
	{"jwt-public-key", "SESSION_JWT_PUBLIC_KEY", "/etc/key.pem", "/x.pem", func(c *Config) { c.JWTPublicKey = "/etc/key.pem" }},
	{"fsync", "SESSION_FSYNC", "always", "no", func(c *Config) { c.Fsync = FsyncAlways }},
	{"snapshot-interval", "SESSION_SNAPSHOT_INTERVAL", "0", "1h", func(c *Config) { c.SnapshotInterval = 0 }},
	{"session-timeout", "SESSION_TIMEOUT", "90m", "0s", func(c *Config) { c.SessionTimeout = 90 * time.Minute }},
	{"retention", "SESSION_RETENTION", "90d", "30s", func(c *Config) { c.Retention = 90 * 24 * time.Hour }},
	{"public-endpoints", "SESSION_PUBLIC_ENDPOINTS", "false", "1", func(c *Config) { c.PublicEndpoints = false }},
	{"cors-origins", "SESSION_CORS_ORIGINS", " https://a.example, ,HTTP://B.example:8080/ ", "*", func(c *Config) {
		c.CORSOrigins = []string{"https://a.example", "http://b.example:8080"}
	}},
	{"log-level", "SESSION_LOG_LEVEL", "DEBUG", "error", func(c *Config) { c.LogLevel = slog.LevelDebug }},
	{"log-format", "SESSION_LOG_FORMAT", "json", "text", func(c *Config) { c.LogFormat = "json" }},
	{"public-rate-limit", "SESSION_PUBLIC_RATE_LIMIT", "2.5", "100", func(c *Config) { c.PublicRateLimit = 2.5 }},
	{"max-conns-per-ip", "SESSION_MAX_CONNS_PER_IP", "0", "64", func(c *Config) { c.MaxConnsPerIP = 0 }},
	{"max-public-apps", "SESSION_MAX_PUBLIC_APPS", "0", "50", func(c *Config) { c.MaxPublicApps = 0 }},
	{"debug-addr", "SESSION_DEBUG_ADDR", "127.0.0.1:6060", "", func(c *Config) { c.DebugAddr = "127.0.0.1:6060" }},
	{"cluster", "SESSION_CLUSTER", "demo", "other", func(c *Config) { c.Cluster.Name = "demo" }},
	{"cluster-addr", "SESSION_CLUSTER_ADDR", "127.0.0.1:7001", ":7002", func(c *Config) { c.Cluster.Addr = "127.0.0.1:7001" }},
	{"cluster-health", "SESSION_CLUSTER_HEALTH", "127.0.0.1:7101", ":7102", func(c *Config) { c.Cluster.Health = "127.0.0.1:7101" }},
	{"cluster-peers", "SESSION_CLUSTER_PEERS", "127.0.0.1:7101, 127.0.0.1:7102,", "127.0.0.1:1", func(c *Config) {
		c.Cluster.Peers = []string{"127.0.0.1:7101", "127.0.0.1:7102"}
	}},
	{"nats-url", "SESSION_NATS_URL", "nats://127.0.0.1:4222", "nats://x:1", func(c *Config) { c.Cluster.NATSURL = "nats://127.0.0.1:4222" }},
	{"nats-addr", "SESSION_NATS_ADDR", "127.0.0.1:4222", ":4223", func(c *Config) { c.Cluster.NATSAddr = "127.0.0.1:4222" }},
	{"nats-cluster-addr", "SESSION_NATS_CLUSTER_ADDR", "127.0.0.1:6222", ":6223", func(c *Config) { c.Cluster.NATSClusterAdr = "127.0.0.1:6222" }},
	{"nats-routes", "SESSION_NATS_ROUTES", "127.0.0.1:6222,127.0.0.1:6223", "127.0.0.1:1", func(c *Config) {
		c.Cluster.NATSRoutes = []string{"127.0.0.1:6222", "127.0.0.1:6223"}
	}},
	{"replicas", "SESSION_REPLICAS", "3", "1", func(c *Config) { c.Cluster.Replicas = 3 }},
}

func TestFieldCasesCoverEveryBinding(t *testing.T) {
	bs := (&Config{}).bindings()
	if len(bs) != len(fieldCases) {
		t.Fatalf("%d bindings, %d field cases", len(bs), len(fieldCases))
	}
	for i, b := range bs {
		if b.name != fieldCases[i].flag || b.env != fieldCases[i].env {
			t.Errorf("binding %d is -%s/%s, case is -%s/%s", i, b.name, b.env, fieldCases[i].flag, fieldCases[i].env)
		}
	}
	// Cluster is one field of Config, and a binding per field of its own.
	if n := reflect.TypeFor[Config]().NumField() - 1 + reflect.TypeFor[ClusterConfig]().NumField(); n != len(bs) {
		t.Errorf("Config has %d fields, %d bindings", n, len(bs))
	}
}

func TestParseServeDefaults(t *testing.T) {
	for _, env := range []map[string]string{nil, {"SESSION_FSYNC": "", "UNRELATED": "x"}} {
		got, err := ParseServe(nil, envMap(env), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if want := DefaultConfig(); !reflect.DeepEqual(got, want) {
			t.Errorf("env %v: got %+v, want %+v", env, got, want)
		}
	}
	if _, err := ParseServe(nil, nil, io.Discard); err != nil {
		t.Errorf("nil lookup: %v", err)
	}
}

func TestParseServeEveryField(t *testing.T) {
	for _, tc := range fieldCases {
		want := DefaultConfig()
		tc.want(&want)
		sources := map[string]struct {
			args []string
			env  map[string]string
		}{
			"flag":          {[]string{"-" + tc.flag + "=" + tc.value}, nil},
			"variable":      {nil, map[string]string{tc.env: tc.value}},
			"flag wins":     {[]string{"-" + tc.flag + "=" + tc.value}, map[string]string{tc.env: tc.other}},
			"two args":      {[]string{"-" + tc.flag, tc.value}, nil},
			"last flag":     {[]string{"-" + tc.flag + "=" + tc.other, "-" + tc.flag + "=" + tc.value}, nil},
			"--double dash": {[]string{"--" + tc.flag + "=" + tc.value}, nil},
		}
		if tc.flag == "public-endpoints" {
			delete(sources, "two args") // a bool flag takes its value after "=" only
		}
		for name, src := range sources {
			t.Run(tc.flag+"/"+name, func(t *testing.T) {
				got, err := ParseServe(src.args, envMap(src.env), io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

func TestParseServeBoolFlagAlone(t *testing.T) {
	got, err := ParseServe([]string{"-public-endpoints"}, envMap(map[string]string{"SESSION_PUBLIC_ENDPOINTS": "false"}), io.Discard)
	if err != nil || !got.PublicEndpoints {
		t.Fatalf("got %v, %v; want PublicEndpoints true", got.PublicEndpoints, err)
	}
}

func TestParseServeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // the error contains it
	}{
		{"fsync flag", []string{"-fsync=sometimes"}, nil, `"sometimes" for flag -fsync`},
		{"fsync var", nil, map[string]string{"SESSION_FSYNC": "sometimes"}, `SESSION_FSYNC: invalid value "sometimes"`},
		{"log level flag", []string{"-log-level", "verbose"}, nil, "-log-level"},
		{"log level offset", []string{"-log-level", "info+2"}, nil, "-log-level"},
		{"log level var", nil, map[string]string{"SESSION_LOG_LEVEL": "trace"}, "SESSION_LOG_LEVEL"},
		{"log format flag", []string{"-log-format", "xml"}, nil, "-log-format"},
		{"log format var", nil, map[string]string{"SESSION_LOG_FORMAT": "logfmt"}, "SESSION_LOG_FORMAT"},
		{"negative snapshot flag", []string{"-snapshot-interval=-1s"}, nil, "-snapshot-interval"},
		{"negative snapshot var", nil, map[string]string{"SESSION_SNAPSHOT_INTERVAL": "-5m"}, "SESSION_SNAPSHOT_INTERVAL"},
		{"negative timeout flag", []string{"-session-timeout=-1h"}, nil, "-session-timeout"},
		{"negative timeout var", nil, map[string]string{"SESSION_TIMEOUT": "-1h"}, "SESSION_TIMEOUT"},
		{"duration without unit", []string{"-session-timeout=5"}, nil, "-session-timeout"},
		{"bad duration var", nil, map[string]string{"SESSION_SNAPSHOT_INTERVAL": "often"}, "SESSION_SNAPSHOT_INTERVAL"},
		{"bad bool flag", []string{"-public-endpoints=yes"}, nil, "-public-endpoints"},
		{"bad bool var", nil, map[string]string{"SESSION_PUBLIC_ENDPOINTS": "yes"}, "SESSION_PUBLIC_ENDPOINTS"},
		{"bad float flag", []string{"-public-rate-limit=fast"}, nil, "-public-rate-limit"},
		{"bad float var", nil, map[string]string{"SESSION_PUBLIC_RATE_LIMIT": "1,5"}, "SESSION_PUBLIC_RATE_LIMIT"},
		{"negative rate flag", []string{"-public-rate-limit=-1"}, nil, "-public-rate-limit"},
		{"negative rate var", nil, map[string]string{"SESSION_PUBLIC_RATE_LIMIT": "-0.5"}, "SESSION_PUBLIC_RATE_LIMIT"},
		{"NaN rate", []string{"-public-rate-limit=NaN"}, nil, "-public-rate-limit"},
		{"infinite rate", []string{"-public-rate-limit=+Inf"}, nil, "-public-rate-limit"},
		{"addr without port", []string{"-addr=8000"}, nil, "-addr"},
		{"addr port too big", []string{"-addr=:65536"}, nil, "-addr"},
		{"addr empty port", nil, map[string]string{"SESSION_ADDR": "localhost:"}, "SESSION_ADDR"},
		{"empty data dir", []string{"-data-dir="}, nil, "-data-dir"},
		{"cors scheme", []string{"-cors-origins=ftp://a.example"}, nil, "-cors-origins"},
		{"cors path", nil, map[string]string{"SESSION_CORS_ORIGINS": "https://a.example/app"}, "SESSION_CORS_ORIGINS"},
		{"cors star with others", []string{"-cors-origins=*,https://a.example"}, nil, "-cors-origins"},
		{"missing value", []string{"-addr"}, nil, "-addr"},
		{"unknown flag", []string{"-nope"}, nil, "-nope"},
		{"positional arg", []string{"-fsync=no", "serve"}, nil, `"serve"`},
		{"secret and key flags", []string{"-jwt-secret=s", "-jwt-public-key=k.pem"}, nil, "-jwt-public-key"},
		{"secret and key vars", nil, map[string]string{"SESSION_JWT_SECRET": "s", "SESSION_JWT_PUBLIC_KEY": "k.pem"}, "SESSION_JWT_SECRET"},
		{"secret var and key flag", []string{"-jwt-public-key=k.pem"}, map[string]string{"SESSION_JWT_SECRET": "s"}, "-jwt-secret"},
		{"env error before flag error", []string{"-nope"}, map[string]string{"SESSION_FSYNC": "x"}, "SESSION_FSYNC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			_, err := ParseServe(tc.args, envMap(tc.env), &stderr)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("err = %q, want one line containing %q", msg, tc.want)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr = %q, want nothing (the caller prints the error)", stderr.String())
			}
		})
	}
}

func TestParseServeHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}, {"-fsync=no", "-h"}} {
		var stderr bytes.Buffer
		_, err := ParseServe(args, envMap(map[string]string{"SESSION_FSYNC": "bad", "SESSION_JWT_SECRET": "hidden"}), &stderr)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%q: err = %v, want flag.ErrHelp", args, err)
		}
		out := stderr.String()
		for _, b := range (&Config{}).bindings() {
			if !strings.Contains(out, "-"+b.name) || !strings.Contains(out, "(env "+b.env+")") {
				t.Errorf("%q: usage lacks -%s or %s:\n%s", args, b.name, b.env, out)
			}
		}
		if !strings.HasPrefix(out, "Usage:") || strings.Contains(out, "hidden") {
			t.Errorf("%q: usage:\n%s", args, out)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   string // "" means valid
	}{
		{"default", func(c *Config) {}, ""},
		{"all disabled", func(c *Config) { c.SnapshotInterval, c.SessionTimeout, c.PublicRateLimit = 0, 0, 0 }, ""},
		{"star", func(c *Config) { c.CORSOrigins = []string{"*"} }, ""},
		{"ipv6 origin", func(c *Config) { c.CORSOrigins = []string{"http://[::1]:3000"} }, ""},
		{"empty addr", func(c *Config) { c.Addr = "" }, "-addr (SESSION_ADDR)"},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "-data-dir (SESSION_DATA_DIR)"},
		{"zero fsync", func(c *Config) { c.Fsync = "" }, "-fsync (SESSION_FSYNC)"},
		{"upper fsync", func(c *Config) { c.Fsync = "ALWAYS" }, "-fsync"},
		{"negative snapshot", func(c *Config) { c.SnapshotInterval = -time.Second }, "-snapshot-interval (SESSION_SNAPSHOT_INTERVAL)"},
		{"negative timeout", func(c *Config) { c.SessionTimeout = -1 }, "-session-timeout (SESSION_TIMEOUT)"},
		{"origin not canonical", func(c *Config) { c.CORSOrigins = []string{"https://A.example/"} }, "-cors-origins"},
		{"star and origin", func(c *Config) { c.CORSOrigins = []string{"https://a.example", "*"} }, "-cors-origins"},
		{"odd level", func(c *Config) { c.LogLevel = slog.LevelInfo + 2 }, "-log-level (SESSION_LOG_LEVEL)"},
		{"upper format", func(c *Config) { c.LogFormat = "JSON" }, "-log-format (SESSION_LOG_FORMAT)"},
		{"NaN rate", func(c *Config) { c.PublicRateLimit = math.NaN() }, "-public-rate-limit (SESSION_PUBLIC_RATE_LIMIT)"},
		{"negative rate", func(c *Config) { c.PublicRateLimit = -1 }, "-public-rate-limit"},
		{"secret and key", func(c *Config) { c.JWTSecret, c.JWTPublicKey = "s", "k" }, "both set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tc.want == "":
			case !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("err = %v, want ErrConfig containing %q", err, tc.want)
			}
		})
	}
}

func TestParseOrigins(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil with ok false means an error
		ok   bool
	}{
		{"", nil, true},
		{" , ,", nil, true},
		{"*", []string{"*"}, true},
		{" * ", []string{"*"}, true},
		{"https://a.example", []string{"https://a.example"}, true},
		{"https://a.example/,http://localhost:3000", []string{"https://a.example", "http://localhost:3000"}, true},
		{"HTTPS://WWW.Example.COM", []string{"https://www.example.com"}, true},
		{"http://127.0.0.1:8080", []string{"http://127.0.0.1:8080"}, true},
		{"http://[::1]", []string{"http://[::1]"}, true},
		{"http://xn--bcher-kva.example", []string{"http://xn--bcher-kva.example"}, true},
		{"*,*", nil, false},
		{"*,https://a.example", nil, false},
		{"a.example", nil, false},
		{"//a.example", nil, false},
		{"https://", nil, false},
		{"https://user@a.example", nil, false},
		{"https://a.example/path", nil, false},
		{"https://a.example?x=1", nil, false},
		{"https://a.example?", nil, false},
		{"https://a.example#top", nil, false},
		{"https://a.example:", nil, false},
		{"https://a.example:99999", nil, false},
		{"https://bücher.example", nil, false},
		{"https://a_b.example", nil, false},
		{"mailto:x@a.example", nil, false},
		{"https://[fe80::1%25eth0]", nil, false},
	} {
		got, err := parseOrigins(tc.in)
		if (err == nil) != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseOrigins(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFsyncMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want FsyncMode
		ok   bool
	}{
		{"always", FsyncAlways, true},
		{"EverySec", FsyncEverySec, true},
		{"no", FsyncNo, true},
		{"", "", false},
		{"never", "", false},
	} {
		m := FsyncNo
		err := m.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && m != tc.want) || (!tc.ok && m != FsyncNo) {
			t.Errorf("Set(%q): mode %q, err %v; want %q, ok %v", tc.in, m, err, tc.want, tc.ok)
		}
	}
}

func TestLogValueHidesSecret(t *testing.T) {
	c := DefaultConfig()
	c.JWTSecret = "topsecret"
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", c)
	if out := buf.String(); strings.Contains(out, "topsecret") || !strings.Contains(out, `"fsync":"everysec"`) {
		t.Errorf("log line: %s", out)
	}
}

// hsToken signs an HS256 token for "alice", valid for an hour.
func hsToken(t *testing.T, secret []byte) []byte {
	t.Helper()
	tok, err := auth.Sign(secret, "alice", "", "", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tok)
}

func TestVerifierWithSecret(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = t.TempDir()
	c.JWTSecret = "s3cret"
	v, err := c.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(hsToken(t, []byte("s3cret")), time.Now()); err != nil {
		t.Errorf("token signed with the secret: %v", err)
	}
	if _, err := v.Verify(hsToken(t, []byte("other")), time.Now()); err == nil {
		t.Error("token signed with another secret verified")
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "jwt.secret")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("jwt.secret made although -jwt-secret is set: %v", err)
	}
}

func TestVerifierWithGeneratedSecret(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = filepath.Join(t.TempDir(), "not", "yet")
	v1, err := c.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.DataDir, "jwt.secret")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	secret, err := c.SigningSecret()
	if err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(path)
	if string(secret) != strings.TrimSpace(string(file)) || len(secret) != 64 {
		t.Errorf("secret %q, file %q", secret, file)
	}
	v2, err := c.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range []*auth.Verifier{v1, v2} {
		if _, err := v.Verify(hsToken(t, secret), time.Now()); err != nil {
			t.Errorf("verifier %d: %v", i+1, err)
		}
	}
}

// writePublicKey writes a fresh Ed25519 public key as PEM and returns its
// path and private key.
func writePublicKey(t *testing.T) (string, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, priv
}

func TestVerifierWithPublicKey(t *testing.T) {
	path, priv := writePublicKey(t)
	c := DefaultConfig()
	c.DataDir = t.TempDir()
	c.JWTPublicKey = path
	v, err := c.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	if claims, err := v.Verify([]byte(tok), time.Now()); err != nil || claims.Subject != "alice" {
		t.Errorf("EdDSA token: %+v, %v", claims, err)
	}
	if _, err := v.Verify(hsToken(t, []byte("s")), time.Now()); err == nil {
		t.Error("HS256 token verified by a public key verifier")
	}
	if _, err := c.SigningSecret(); !errors.Is(err, ErrCannotSign) {
		t.Errorf("SigningSecret: %v, want ErrCannotSign", err)
	}
}

func TestVerifierBadPublicKey(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.pem"), dir, garbage} {
		c := DefaultConfig()
		c.JWTPublicKey = path
		v, err := c.Verifier()
		if err == nil || v != nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, %v; want an error naming the path", path, v, err)
		}
	}
}

func TestVerifierUnwritableDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.DataDir = filepath.Join(file, "data")
	if _, err := c.Verifier(); err == nil || !strings.Contains(err.Error(), c.DataDir) {
		t.Errorf("err = %v, want one naming %s", err, c.DataDir)
	}
}

// FuzzFlagValue sets one flag to an arbitrary value. Whatever a flag's
// parser accepts must pass Validate, and must read back the same through
// the value's String.
func FuzzFlagValue(f *testing.F) {
	for i, tc := range fieldCases {
		f.Add(uint8(i), tc.value)
		f.Add(uint8(i), tc.other)
	}
	f.Fuzz(func(t *testing.T, i uint8, s string) {
		c := DefaultConfig()
		bs := c.bindings()
		b := bs[int(i)%len(bs)]
		err := b.value.Set(s)
		if err != nil {
			if !reflect.DeepEqual(c, DefaultConfig()) {
				t.Fatalf("-%s=%q failed (%v) but changed the config", b.name, s, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("-%s=%q accepted, Validate: %v", b.name, s, err)
		}
		if b.name == "jwt-secret" {
			return // its String is redacted
		}
		again := DefaultConfig()
		if err := again.bindings()[int(i)%len(bs)].value.Set(b.value.String()); err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("-%s=%q reads back as %q: %+v, %v", b.name, s, b.value.String(), again, err)
		}
	})
}

// FuzzParseOrigins: an accepted list is canonical and parses to itself.
func FuzzParseOrigins(f *testing.F) {
	for _, s := range []string{"*", "https://a.example, http://B.example:80/", "http://[::1]:3000", "ftp://x", "*,*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseOrigins(s)
		if err != nil {
			return
		}
		if err := checkOrigins(got); err != nil {
			t.Fatalf("parseOrigins(%q) = %q, not valid: %v", s, got, err)
		}
		again, err := parseOrigins(formatOrigins(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("parseOrigins(%q) = %q, reparsed %q, %v", s, got, again, err)
		}
	})
}

// FuzzParseServe: arguments never panic; an error is one line, and a
// configuration returned is valid.
func FuzzParseServe(f *testing.F) {
	for _, s := range []string{"", "-fsync always -addr :1", "-h", "-cors-origins * x", "-public-rate-limit=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseServe(strings.Fields(s), nil, io.Discard)
		switch {
		case errors.Is(err, flag.ErrHelp):
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Fatalf("%q: error of several lines: %q", s, err)
		case err == nil:
			if err := c.Validate(); err != nil {
				t.Fatalf("%q: ParseServe returned an invalid config: %v", s, err)
			}
		}
	})
}

func BenchmarkParseServe(b *testing.B) {
	args := []string{"-addr", ":9000", "-fsync=always", "-cors-origins", "https://a.example,https://b.example"}
	env := envMap(map[string]string{"SESSION_DATA_DIR": "/data", "SESSION_TIMEOUT": "1h", "SESSION_LOG_LEVEL": "debug"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseServe(args, env, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
