package analytics

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/sessionserver/sessionserver/actors/event"
)

func buildState(t testing.TB, seed uint64, n int) *State {
	t.Helper()
	w := randomWorld(seed, n)
	s := NewState()
	for i := range w.recs {
		rec := w.recs[i]
		if err := s.Apply(&rec); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			track := event.Record{Kind: event.PageTrack, App: rec.App, User: rec.User, Page: "/p" + rec.User, SpentMs: int64(i), At: rec.At}
			if err := s.Apply(&track); err != nil {
				t.Fatal(err)
			}
		}
	}
	other := event.Record{Kind: event.PageTrack, App: "other", User: "x", Page: "/", SpentMs: 5, At: 1}
	if err := s.Apply(&other); err != nil {
		t.Fatal(err)
	}
	return s
}

// roundTripState writes s and reads it back, returning the state read and
// its encoding.
func roundTripState(t *testing.T, s *State) (*State, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteState(&buf, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return got, buf.Bytes()
}

func TestStateRoundTrip(t *testing.T) {
	s := buildState(t, 11, 500)
	got, encoded := roundTripState(t, s)
	if !reflect.DeepEqual(got.Names(), s.Names()) {
		t.Fatalf("apps %v, want %v", got.Names(), s.Names())
	}
	for _, name := range s.Names() {
		want, have := s.Apps[name], got.Apps[name]
		if !reflect.DeepEqual(have.pages, want.pages) || !reflect.DeepEqual(have.tracks, want.tracks) || !reflect.DeepEqual(have.byTime, want.byTime) {
			t.Errorf("%s: pages differ", name)
		}
		if len(have.users) != len(want.users) {
			t.Fatalf("%s: %d users, want %d", name, len(have.users), len(want.users))
		}
		for u := range want.users {
			if !reflect.DeepEqual(have.users[u].pages, want.users[u].pages) || have.users[u].sessions.Len() != want.users[u].sessions.Len() {
				t.Errorf("%s: user %s differs", name, want.userNames.list[u])
			}
		}
		if (have.sessionData == nil) != (want.sessionData == nil) {
			t.Fatalf("%s: session part %v after a round trip, want %v", name, have.sessionData != nil, want.sessionData != nil)
		}
		if want.sessionData == nil { // an app of page tracks only
			continue
		}
		if !sameCounters(have.agg, want.agg) {
			t.Errorf("%s: counters differ after a round trip", name)
		}
		haveAll, wantAll := slices.Collect(have.all.all()), slices.Collect(want.all.all())
		if len(haveAll) != len(wantAll) || len(have.live) != len(want.live) {
			t.Fatalf("%s: %d sessions (%d live), want %d (%d)", name, len(haveAll), len(have.live), len(wantAll), len(want.live))
		}
		for i := range wantAll {
			if !reflect.DeepEqual(haveAll[i], wantAll[i]) {
				t.Fatalf("%s: session %d: %+v, want %+v", name, i, haveAll[i], wantAll[i])
			}
		}
	}
	var again bytes.Buffer
	if err := WriteState(&again, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), encoded) {
		t.Fatal("encoding is not deterministic")
	}
}

func TestReadStateRejects(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteState(&buf, buildState(t, 3, 50)); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)/2]},
		{"huge count", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	} {
		if _, err := ReadState(bytes.NewReader(tc.b)); !errors.Is(err, ErrCodec) {
			t.Errorf("%s: err %v, want ErrCodec", tc.name, err)
		}
	}
}

func FuzzReadState(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteState(&buf, buildState(f, 5, 20)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadState(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteState(&out, s); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadState(&out); err != nil {
			t.Fatalf("a state that decoded does not decode again: %v", err)
		}
	})
}

func BenchmarkWriteState(b *testing.B) {
	s := buildState(b, 1, 100_000)
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := WriteState(&buf, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/100_000, "bytes/session")
}

func BenchmarkReadState(b *testing.B) {
	s := buildState(b, 1, 100_000)
	var buf bytes.Buffer
	if err := WriteState(&buf, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(buf.Len()))
	for i := 0; i < b.N; i++ {
		if _, err := ReadState(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "sessions/s")
}

// sameCounters compares two aggregates by what they hold: every busy
// bucket and the long intervals (not how they are laid out in memory).
func sameCounters(a, b *Aggregate) bool {
	busy := func(g *Aggregate) map[int64]cell {
		m := map[int64]cell{}
		g.eachCell(math.MinInt64, math.MaxInt64, func(ms int64, c *cell) {
			if !reflect.DeepEqual(*c, cell{}) {
				m[ms] = *c
			}
		})
		return m
	}
	return reflect.DeepEqual(busy(a), busy(b)) && slices.Equal(a.long, b.long)
}
