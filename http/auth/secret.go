package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
)

const (
	// SecretFile is the name of the generated secret inside the data folder.
	SecretFile = "jwt.secret"
	// secretBytes is how many random bytes a generated secret holds.
	secretBytes = 32
	// maxSecretFile bounds what LoadOrCreateSecret reads.
	maxSecretFile = 64 << 10
	redacted      = "[REDACTED]"
)

// Secret is a string that never shows itself in logs or fmt output: slog
// and every fmt verb print "[REDACTED]". Convert it explicitly
// ([]byte(s) or string(s)) where the value is really needed. fmt cannot call
// methods on unexported struct fields, so keep a Secret in exported fields.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter, so that every verb, including the ones
// fmt reports as bad (%d prints the raw value of a string type otherwise),
// prints "[REDACTED]" ("\"[REDACTED]\"" for %q).
func (Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(redacted))
		return
	}
	io.WriteString(f, redacted)
}

// LoadOrCreateSecret returns the HS256 secret of dataDir, making it on the
// first call: <dataDir>/jwt.secret, 64 lowercase hex characters (32 random
// bytes) and a newline, mode 0600, in a folder made with mode 0700. An
// existing file's content is returned with surrounding whitespace trimmed; an
// empty one is an error. Concurrent first calls, in one process or several,
// all return the one secret that reached the disk.
func LoadOrCreateSecret(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, SecretFile)
	secret, err := readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	if err := makeDir(dataDir); err != nil {
		return nil, err
	}
	secret, err = createSecret(dataDir, path)
	if errors.Is(err, fs.ErrExist) {
		return readSecret(path) // another start won the race
	}
	return secret, err
}

// readSecret reads and trims an existing secret file.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read secret: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("auth: read secret %s: %w", path, err)
	case len(b) > maxSecretFile:
		return nil, fmt.Errorf("auth: secret file %s is larger than %d bytes", path, maxSecretFile)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrEmptySecret, path)
	}
	return b, nil
}

// createSecret writes a new secret to a temporary file, fsyncs it and
// hard-links it to path, so path only ever holds a complete secret. If path
// already exists the error wraps fs.ErrExist and nothing is changed.
func createSecret(dir, path string) ([]byte, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	tmp, err := writeTemp(dir, append(bytes.Clone(secret), '\n'))
	if err != nil {
		return nil, err
	}
	err = os.Link(tmp, path)
	os.Remove(tmp) // path, if linked, keeps the content
	if err != nil {
		return nil, fmt.Errorf("auth: install secret: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return secret, nil
}

// newSecret returns 32 random bytes as 64 lowercase hex characters.
func newSecret() ([]byte, error) {
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("auth: random secret: %w", err)
	}
	return hex.AppendEncode(nil, raw), nil
}

// writeTemp writes data to a new mode-0600 file in dir, fsyncs and closes
// it, and returns its name.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+SecretFile+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("auth: create temporary secret: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("auth: write temporary secret: %w", err)
	}
	return f.Name(), nil
}

// makeDir makes dir (mode 0700) and its parents if missing, and fsyncs the
// parent of a folder it made so the new folder survives a power loss.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("auth: create data folder: %w", err)
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("auth: sync data folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("auth: sync data folder: %w", err)
	}
	return nil
}
