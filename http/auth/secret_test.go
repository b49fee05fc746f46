package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateSecretCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data")
	s, err := LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 64 || string(s) != strings.ToLower(string(s)) {
		t.Fatalf("secret %q is not 64 lowercase hex chars", s)
	}
	if _, err := hex.DecodeString(string(s)); err != nil {
		t.Fatalf("secret %q is not hex: %v", s, err)
	}
	path := filepath.Join(dir, SecretFile)
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(content) != string(s)+"\n" {
		t.Fatalf("file holds %q, want %q", content, string(s)+"\n")
	}
	checkMode(t, path, 0o600)
	checkMode(t, dir, 0o700|os.ModeDir)
	checkOnlySecret(t, dir)

	again, err := LoadOrCreateSecret(dir)
	if err != nil || !bytes.Equal(again, s) {
		t.Fatalf("second call = %q, %v; want %q", again, err, s)
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Fatalf("%s has mode %v, want %v", path, fi.Mode(), want)
	}
}

// checkOnlySecret fails if dir holds anything but the secret (a leftover
// temporary file, say).
func checkOnlySecret(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != SecretFile {
		t.Fatalf("folder holds %v, want only %s", entries, SecretFile)
	}
}

func TestLoadOrCreateSecretExisting(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
		wantErr error
	}{
		{"hex and newline", strings.Repeat("ab", 32) + "\n", strings.Repeat("ab", 32), nil},
		{"user text with blanks", "  my secret \r\n\t", "my secret", nil},
		{"empty", "", "", ErrEmptySecret},
		{"only blanks", " \n\t\n", "", ErrEmptySecret},
		{"too large", strings.Repeat("x", maxSecretFile+1), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadOrCreateSecret(dir)
			switch {
			case tt.want != "":
				if err != nil || string(got) != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
			case err == nil:
				t.Fatalf("got %q, want an error", got)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestLoadOrCreateSecretBadFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSecret(file); err == nil {
		t.Fatal("a data folder that is a file gave no error")
	}
}

func TestLoadOrCreateSecretConcurrent(t *testing.T) {
	for round := range 20 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(round))
		const n = 8
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			secrets [n][]byte
			errs    [n]error
		)
		for i := range n {
			wg.Go(func() {
				<-start
				secrets[i], errs[i] = LoadOrCreateSecret(dir)
			})
		}
		close(start)
		wg.Wait()
		content, err := os.ReadFile(filepath.Join(dir, SecretFile))
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: %v", i, errs[i])
			}
			if string(secrets[i])+"\n" != string(content) {
				t.Fatalf("goroutine %d got %q, file holds %q", i, secrets[i], content)
			}
		}
		checkOnlySecret(t, dir)
	}
}

func TestSecretRedacted(t *testing.T) {
	const plain = "hunter2-very-secret"
	s := Secret(plain)
	type config struct{ JWTSecret Secret }
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("start", "secret", s, slog.Any("any", s), slog.Group("g", "secret", s))
		l.With("secret", s).Info("with")
	}
	for _, f := range []string{"%v", "%s", "%q", "%#v", "%+v", "%x", "%d"} {
		fmt.Fprintf(&buf, f+"\n", s)
		fmt.Fprintf(&buf, f+"\n", config{s})
	}
	fmt.Fprintln(&buf, s, []Secret{s}, map[string]Secret{"k": s})
	out := buf.String()
	if strings.Contains(out, plain) || strings.Contains(out, fmt.Sprintf("%x", plain)) {
		t.Fatalf("secret leaked:\n%s", out)
	}
	if strings.Count(out, redacted) < 20 {
		t.Fatalf("redaction marker missing:\n%s", out)
	}
	if s.String() != redacted || s.GoString() != redacted {
		t.Fatal("String/GoString not redacted")
	}
	if string(s) != plain {
		t.Fatal("string conversion must still give the value")
	}
}
