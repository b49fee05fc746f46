package http

import (
	"errors"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/http/isotime"
)

// FuzzDecodeBody drives every field reader of every endpoint with
// arbitrary bodies: no panic, and every refusal is a 400 or a 422.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		`{"app":"a","user":"u","time":"2024-01-01T12:00:00Z","status":"active"}`,
		`{"app":"a","user":"u","session_id":"7ae844b4-970b-4653-b681-95b133d10a41","time":"2024-01-01T12:00:00.123456789+05:45"}`,
		`{"app":"a","user":"u","page":"/x","timespent":12.5}`,
		`{"app":"a","user":"all","from":"2024-01-01","to":"2024-01-31T00:00:00Z","tz":"Asia/Kathmandu","limit":10,"cursor":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		`{"app":1,"user":null,"timespent":"1","limit":1e400}`, `[]`, `null`, `{"app":"\u00e9\ud800"}`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	zones := new(isotime.Zones)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		b := new(body)
		if err := decodeBody(raw, b); err != nil {
			mustBeStatus(t, err, 400)
			return
		}
		_, err1 := b.appField()
		_, err2 := b.userField()
		_, _, err3 := b.timeField(now)
		_, err4 := b.sessionID()
		_, err5 := b.page()
		_, _, err6 := b.timespent()
		_, err7 := b.query(zones)
		_, err8 := b.limit()
		_, err9 := b.cursor()
		for _, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8, err9} {
			if err != nil {
				mustBeStatus(t, err, 422)
			}
		}
	})
}

func mustBeStatus(t *testing.T, err error, want int) {
	t.Helper()
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != want {
		t.Fatalf("error %v is not a %d", err, want)
	}
}
