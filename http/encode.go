package http

import (
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/http/isotime"
)

// Success answers — of the writes (the hot path) and of the analytics reads
// (encode_reads.go) — are encoded by hand into the response buffer; errors
// and the token answers go through encoding/json.

// appender is an answer that encodes itself as a JSON object.
type appender interface {
	appendJSON(dst []byte) []byte
}

// writeSuccess writes {"status":"success","message":…,key:…}, built in a
// pooled buffer and copied into the response. key is "data" but for the
// heatmap.
func (s *Server) writeSuccess(ctx *fasthttp.RequestCtx, message, key string, data appender) {
	bp := s.bufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"status":"success","message":`...)
	b = appendString(b, message)
	b = appendKey(b, false, key)
	b = data.appendJSON(b)
	b = append(b, '}')
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
	*bp = b
	s.bufs.Put(bp)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD
// (as encoding/json does).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendKey(dst []byte, first bool, key string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendStamp(dst []byte, ms int64) []byte {
	dst = append(dst, '"')
	return append(isotime.AppendMillis(dst, ms), '"')
}

func appendDuration(dst []byte, ms int64) []byte {
	dst = append(dst, '"')
	return append(isotime.AppendDuration(dst, ms), '"')
}

func (a *startAnswer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "session_id")
	b = appendString(b, a.SessionID)
	b = appendKey(b, false, "user")
	b = appendString(b, a.User)
	b = appendKey(b, false, "app")
	b = appendString(b, a.App)
	b = appendKey(b, false, "start_time")
	b = appendStamp(b, int64(a.StartTime))
	b = appendKey(b, false, "status")
	b = appendString(b, a.Status)
	return append(b, '}')
}

func (a *transitionAnswer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "session_id")
	b = appendString(b, a.SessionID)
	b = appendKey(b, false, "status")
	b = appendString(b, a.Status)
	for _, f := range []struct {
		key string
		at  *stamp
	}{{"pause_time", a.PauseTime}, {"resume_time", a.ResumeTime}, {"end_time", a.EndTime}} {
		if f.at != nil {
			b = appendKey(b, false, f.key)
			b = appendStamp(b, int64(*f.at))
		}
	}
	if a.TotalDuration != nil {
		b = appendKey(b, false, "total_duration")
		b = appendDuration(b, int64(*a.TotalDuration))
	}
	if a.ElapsedDuration != nil {
		b = appendKey(b, false, "elapsed_duration")
		b = appendDuration(b, int64(*a.ElapsedDuration))
	}
	return append(b, '}')
}

func (a *trackAnswer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "page")
	b = appendString(b, a.Page)
	b = appendKey(b, false, "time_spent")
	b = append(b, a.TimeSpent...)
	b = appendKey(b, false, "timestamp")
	b = appendStamp(b, int64(a.Timestamp))
	return append(b, '}')
}
