package http

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var scanCases = []string{
	`{"app":"a","user":"u","time":"2024-01-01T12:00:00Z","status":"active"}`,
	` {"app" : "a" , "x":{"y":[1,2,{"z":null}],"w":true}, "timespent" : -1.5e+3 } `,
	`{"app":"a","app":"b"}`,
	`{"a\u0070p":"escaped key","user":"\u00e9\ud83d\ude00\n"}`,
	`{"APP":"case"}`,
	`{}`, `{"app":}`, `{"app":"a",}`, `{"app":"a"} x`, `{"app":01}`, `{"app":1.}`, `{"app":.5}`,
	`{"app":"\x01"}`, `{"app":"\q"}`, `{"app":"\u12"}`, `{"app":tru}`, `{"app":"a"`, `{"a":[1,]}`,
	`{"app":"` + "\xff\xfe" + `"}`, `{"limit":1e400}`, `{"page":"/p","timespent":0}`,
	strings.Repeat(`{"a":`, 50) + `1` + strings.Repeat(`}`, 50),
}

// TestScanMatchesEncodingJSON: the hand-written scanner accepts exactly
// the objects encoding/json accepts and keeps the same bytes for each
// known key (last duplicate wins, exact key match).
func TestScanMatchesEncodingJSON(t *testing.T) {
	for _, c := range scanCases {
		checkScan(t, []byte(c))
	}
}

func FuzzScanObject(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkScan(t, raw) })
}

func checkScan(t *testing.T, raw []byte) {
	t.Helper()
	var b body
	err := scanObject(raw, &b)
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	wantOK := json.Valid(raw) && len(trimmed) > 0 && trimmed[0] == '{'
	if (err == nil) != wantOK {
		t.Fatalf("%q: scanner err %v, encoding/json valid object %v", raw, err, wantOK)
	}
	if err != nil {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%q: encoding/json: %v", raw, err)
	}
	for _, key := range []string{"app", "user", "time", "status", "session_id", "page", "timespent", "from", "to", "tz", "limit", "cursor"} {
		got, want := *b.field(key), m[key]
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: key %s: scanner %q, encoding/json %q", raw, key, got, want)
		}
	}
}

func BenchmarkDecodeBody(b *testing.B) {
	raw := []byte(`{"app":"shop","user":"ann","page":"/dashboard","timespent":12.5,"time":"2024-01-01T12:00:00.000Z"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if err := decodeBody(raw, new(body)); err != nil {
			b.Fatal(err)
		}
	}
}
