package jetlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
)

func sampleBatch() []event.Record {
	id := uuid.MustParse("7ae844b4-970b-4653-b681-95b133d10a41")
	return []event.Record{
		{Kind: event.Start, App: "shop", User: "ann", Session: id, At: 1704110400000, Logged: 1704110400123},
		{Kind: event.PageTrack, App: "shop", User: "ann", Page: "/" + strings.Repeat("p", event.MaxPage-1), SpentMs: 12500, At: 9, Logged: 10},
		{Kind: event.Settings, App: "shop", Extra: &event.Extra{RetentionMs: event.RetentionInherit, Public: event.PublicOff}, At: 11, Logged: 11},
		{Kind: event.ImportSession, App: "shop", User: "bob", Session: id, At: 1000, Extra: &event.Extra{Marks: []int64{1500, 9000}, Status: 3}, Logged: 20},
		{Kind: event.End, App: "shop", User: "ann", Session: id, At: 1704112200000, Logged: 1704112200000},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	want := sampleBatch()
	body := EncodeBatch(nil, want)
	got, err := DecodeBatch(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// The page track is over 127 bytes: its length takes two bytes.
	one := EncodeBatch(nil, want[1:2])
	if n, k := binary.Uvarint(one); k != 2 || int(n) != len(one)-2 {
		t.Fatalf("length prefix %d (%d bytes) of %d", n, k, len(one))
	}
	// Decoding appends.
	got, err = DecodeBatch(got[:1], body)
	if err != nil || len(got) != 1+len(want) {
		t.Fatalf("%d records, %v", len(got), err)
	}
}

func TestDecodeBatchErrors(t *testing.T) {
	good := EncodeBatch(nil, sampleBatch()[:1])
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"zero length", []byte{0}},
		{"bad varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"huge length", binary.AppendUvarint(nil, maxRecordBytes+1)},
		{"length beyond the body", good[:len(good)-1]},
		{"trailing length", append(bytes.Clone(good), 5)},
		{"bad record", append([]byte{3}, 99, 1, 'a')},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]event.Record, 2)
			got, err := DecodeBatch(dst, tt.b)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err %v, want ErrMalformed", err)
			}
			if len(got) != 2 {
				t.Fatalf("dst grew to %d on an error", len(got))
			}
		})
	}
}

// FuzzDecodeBatch: no body panics, every refusal wraps ErrMalformed, and
// the records of a body that decodes survive encoding and decoding.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(EncodeBatch(nil, sampleBatch()))
	f.Add(EncodeBatch(nil, sampleBatch()[1:2]))
	f.Add([]byte{0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := DecodeBatch(nil, b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := DecodeBatch(nil, EncodeBatch(nil, recs))
		if err != nil || !reflect.DeepEqual(again, recs) {
			t.Fatalf("re-encoded batch: %v", err)
		}
	})
}
