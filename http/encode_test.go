package http

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// TestAppendersMatchEncodingJSON: the hand encoders give the same JSON
// value encoding/json gives.
func TestAppendersMatchEncodingJSON(t *testing.T) {
	ts, d := stamp(1704110400123), duration(3723000)
	for _, a := range []appender{
		&startAnswer{SessionID: "7ae844b4-970b-4653-b681-95b133d10a41", User: "ann \"quoted\" \\ \n\t\x01 é", App: "<shop>&", StartTime: ts, Status: "active"},
		&transitionAnswer{SessionID: "x", Status: "paused", PauseTime: &ts},
		&transitionAnswer{SessionID: "x", Status: "ended", EndTime: &ts, TotalDuration: &d, ElapsedDuration: &d},
		&trackAnswer{Page: "/a\u2028b\xff", TimeSpent: json.RawMessage("12.50"), Timestamp: ts},
	} {
		got := a.appendJSON(nil)
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("hand encoding is not JSON: %s: %v", got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if gs, ws := mustJSON(t, g), mustJSON(t, w); gs != ws {
			t.Fatalf("hand %s\n json %s", gs, ws)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\s", "\x00\x1f", "é😀", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q: not a JSON string: %v", s, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}
