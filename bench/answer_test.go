package bench

import (
	"bytes"
	"errors"
	"testing"
)

const testID = "87e411de-0f57-4e71-9ba9-a4f651f11f56"

func TestSessionID(t *testing.T) {
	cases := []struct {
		name   string
		answer string
		want   string // "" means ErrAnswer
	}{
		{"server answer", `{"status":"success","message":"Session started successfully","data":{"session_id":"` + testID + `","user":"ann","app":"shop","start_time":"2024-01-01T12:00:00.000Z","status":"active"}}`, testID},
		{"spaces around the colon", `{"data": {"session_id" :  "` + testID + `"}}`, testID},
		{"upper-case hex", `{"session_id":"87E411DE-0F57-4E71-9BA9-A4F651F11F56"}`, "87E411DE-0F57-4E71-9BA9-A4F651F11F56"},
		{"no session_id", `{"status":"error","message":"no","details":"user"}`, ""},
		{"empty", ``, ""},
		{"key at the end", `{"session_id"`, ""},
		{"no colon", `{"session_id" "` + testID + `"}`, ""},
		{"not a string", `{"session_id":12345678}`, ""},
		{"too short", `{"session_id":"87e411de-0f57-4e71-9ba9"}`, ""},
		{"too long", `{"session_id":"` + testID + `0"}`, ""},
		{"not hex", `{"session_id":"87e411de-0f57-4e71-9ba9-a4f651f11fzz"}`, ""},
		{"dash misplaced", `{"session_id":"87e411de0-f57-4e71-9ba9-a4f651f11f56"}`, ""},
		{"null", `{"session_id":null}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := SessionID([]byte(tc.answer))
			if tc.want == "" {
				if !errors.Is(err, ErrAnswer) || id != [36]byte{} {
					t.Errorf("SessionID = %q, %v; want ErrAnswer", id[:], err)
				}
				return
			}
			if err != nil || string(id[:]) != tc.want {
				t.Errorf("SessionID = %q, %v; want %q", id[:], err, tc.want)
			}
		})
	}
}

func FuzzSessionID(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"session_id":"` + testID + `"}}`))
	f.Add([]byte(`{"session_id" : "x"}`))
	f.Fuzz(func(t *testing.T, answer []byte) {
		id, err := SessionID(answer)
		if err != nil {
			if !errors.Is(err, ErrAnswer) || id != [36]byte{} {
				t.Fatalf("failure %v with id %q", err, id[:])
			}
			return
		}
		if !isUUID(id[:]) || !bytes.Contains(answer, id[:]) {
			t.Fatalf("SessionID(%q) = %q: not a UUID of the answer", answer, id[:])
		}
	})
}

func BenchmarkSessionID(b *testing.B) {
	answer := []byte(`{"status":"success","message":"Session started successfully","data":{"session_id":"` + testID + `","user":"bench-user-17","app":"bench-app-7","start_time":"2024-01-01T12:00:00.000Z","status":"active"}}`)
	b.SetBytes(int64(len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SessionID(answer); err != nil {
			b.Fatal(err)
		}
	}
}
