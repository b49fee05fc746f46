package auth

import (
	"errors"
	"testing"
)

func TestParseBearer(t *testing.T) {
	tests := []struct {
		header string
		token  string // "" = error
		reason string
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", ""},
		{"bearer abc", "abc", ""},
		{"BEARER abc", "abc", ""},
		{"bEaReR abc", "abc", ""},
		{"Bearer    abc", "abc", ""},
		{" Bearer abc \t", "abc", ""},
		{"Bearer abc==", "abc==", ""},
		{"", "", "missing Authorization header"},
		{"   ", "", "missing Authorization header"},
		{"Bearer", "", "missing bearer token"},
		{"Bearer ", "", "missing bearer token"},
		{"Bearer     ", "", "missing bearer token"},
		{"Bearerabc", "", `"Bearer" scheme`},
		{"Bearer\tabc", "", `"Bearer" scheme`},
		{"Basic dXNlcjpwYXNz", "", `"Bearer" scheme`},
		{"Token abc", "", `"Bearer" scheme`},
		{"Bear abc", "", `"Bearer" scheme`},
		{"abc.def.ghi", "", `"Bearer" scheme`},
		{"Bearer abc def", "", "may hold only"},
		{"Bearer abc\tdef", "", "may hold only"},
		{"Bearer \r", "", "may hold only"},
		{"Bearer abc\x00", "", "may hold only"},
		{"Bearer a=b", "", "may hold only"},
		{"Bearer ===", "", "may hold only"},
		{"Bearer aZ09-._~+/==", "aZ09-._~+/==", ""},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, err := ParseBearer([]byte(tt.header))
			if tt.token != "" {
				if err != nil || string(got) != tt.token {
					t.Fatalf("ParseBearer = %q, %v; want %q", got, err, tt.token)
				}
				return
			}
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("ParseBearer = %q, %v; want ErrUnauthorized", got, err)
			}
			wantErr(t, err, tt.reason)
		})
	}
}
