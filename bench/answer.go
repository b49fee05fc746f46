package bench

import "bytes"

var sessionIDKey = []byte(`"session_id"`)

// SessionID finds the "session_id" string of a start answer, such as
//
//	{"status":"success","message":"…","data":{"session_id":"87e411de-0f57-4e71-9ba9-a4f651f11f56",…}}
//
// without decoding the rest. The value must be a UUID in its 36-character
// text form; else the error wraps ErrAnswer.
func SessionID(answer []byte) ([36]byte, error) {
	var id [36]byte
	i := bytes.Index(answer, sessionIDKey)
	if i < 0 {
		return id, ErrAnswer
	}
	rest := skipSpace(answer[i+len(sessionIDKey):])
	if len(rest) == 0 || rest[0] != ':' {
		return id, ErrAnswer
	}
	rest = skipSpace(rest[1:])
	if len(rest) < len(id)+2 || rest[0] != '"' || rest[len(id)+1] != '"' {
		return id, ErrAnswer
	}
	copy(id[:], rest[1:])
	if !isUUID(id[:]) {
		return [36]byte{}, ErrAnswer
	}
	return id, nil
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// isUUID reports whether b is 8-4-4-4-12 hexadecimal digits.
func isUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
