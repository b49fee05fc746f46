package event

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func sampleRecords() []Record {
	id := uuid.MustParse("7ae844b4-970b-4653-b681-95b133d10a41")
	return []Record{
		{Kind: Start, App: "shop", User: "ann", Session: id, At: 1704110400000, Logged: 1704110400123},
		{Kind: Pause, App: "shop", User: "ann", Session: id, At: 1704112200000, Logged: 1704112200000},
		{Kind: Resume, App: "a", User: "b", Session: id, At: -5, Logged: 0},
		{Kind: End, App: strings.Repeat("x", MaxApp), User: strings.Repeat("u", MaxUser), Session: id, At: 1 << 50, Logged: 1 << 50},
		{Kind: Timeout, App: "shop", User: "ann", Session: id, At: 7, Logged: 8},
		{Kind: PageTrack, App: "shop", User: "ann", Page: "/dash", SpentMs: 12500, At: 9, Logged: 10},
		{Kind: PageTrack, App: "shop", User: "ann", Page: "/" + strings.Repeat("p", MaxPage-1), SpentMs: MaxSpentMs, At: 9, Logged: 10},
		{Kind: Settings, App: "shop", Extra: &Extra{RetentionMs: 90 * 86_400_000, Public: PublicOff}, At: 11, Logged: 11},
		{Kind: Settings, App: "shop", Extra: &Extra{RetentionMs: RetentionInherit, Public: PublicInherit}, At: 11, Logged: 11},
		{Kind: EraseUser, App: "shop", User: "ann", At: 12, Logged: 12},
		{Kind: DeleteApp, App: "shop", At: 13, Logged: 13},
		{Kind: ImportSession, App: "shop", User: "ann", Session: id, At: 1000, Extra: &Extra{Marks: []int64{1500, 1500, 9000}, Status: 3, TimedOut: true}, Logged: 20},
		{Kind: ImportSession, App: "shop", User: "bob", Session: id, At: -1000, Extra: &Extra{Marks: []int64{}, Status: 1}, Logged: 20},
		{Kind: ImportTrack, App: "shop", User: "ann", Page: "/a", SpentMs: 5, Extra: &Extra{Ordinal: 2}, At: 9, Logged: 10},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, rec := range sampleRecords() {
		b := AppendBinary(nil, &rec)
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%+v: %v", rec, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("got %+v, want %+v", got, rec)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := AppendBinary(nil, &sampleRecords()[0])
	over := sampleRecords()[5]
	over.SpentMs = MaxSpentMs + 1
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown kind", append([]byte{99}, good[1:]...)},
		{"kind zero", append([]byte{0}, good[1:]...)},
		{"truncated", good[:len(good)-3]},
		{"trailing", append(append([]byte{}, good...), 0)},
		{"app too long", append([]byte{byte(Start), 0xff, 0x01}, make([]byte, 300)...)},
		{"huge length", []byte{byte(Start), 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"spent out of range", AppendBinary(nil, &over)},
		{"ordinal zero", AppendBinary(nil, &Record{Kind: ImportTrack, App: "a", User: "b", Page: "/"})},
		{"retention below inherit", AppendBinary(nil, &Record{Kind: Settings, App: "a", Extra: &Extra{RetentionMs: -2}})},
		{"public out of range", AppendBinary(nil, &Record{Kind: Settings, App: "a", Extra: &Extra{Public: 3}})},
		{"marks beyond the record", append([]byte{byte(ImportSession), 1, 'a', 1, 'b'}, append(make([]byte, 16), 2, 0xff, 0xff, 0x03)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.b); !errors.Is(err, ErrDecode) {
				t.Fatalf("err %v, want ErrDecode", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, rec := range sampleRecords() {
		f.Add(AppendBinary(nil, &rec))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := Decode(b)
		if err != nil {
			return
		}
		again := AppendBinary(nil, &rec)
		rec2, err := Decode(again)
		if err != nil || !reflect.DeepEqual(rec, rec2) {
			t.Fatalf("decoded record does not round-trip: %+v vs %+v (%v)", rec, rec2, err)
		}
	})
}

func BenchmarkAppendBinary(b *testing.B) {
	rec := sampleRecords()[1]
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendBinary(buf[:0], &rec)
	}
}

func BenchmarkDecode(b *testing.B) {
	rec := sampleRecords()[1]
	buf := AppendBinary(nil, &rec)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		if _, err := Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}
