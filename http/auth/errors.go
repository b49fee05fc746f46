package auth

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Callers test them with errors.Is; the
// wrapping error carries the reason.
var (
	// ErrUnauthorized means the token is missing, malformed, badly signed,
	// expired, not yet valid, of a refused algorithm or with unusable claims.
	// The HTTP layer answers 401 with "WWW-Authenticate: Bearer".
	ErrUnauthorized = errors.New("auth: unauthorized")
	// ErrForbidden means the token is valid but not for this app or user
	// (HTTP 403).
	ErrForbidden = errors.New("auth: forbidden")
	// ErrEmptySecret means an HS256 secret (given or read from a file) is empty.
	ErrEmptySecret = errors.New("auth: empty secret")
	// ErrKey means a PEM public key cannot be used for verification.
	ErrKey = errors.New("auth: unusable public key")
	// ErrSign means Sign was given arguments that make no valid token.
	ErrSign = errors.New("auth: cannot sign token")
)

func unauthorized(reason string) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, reason)
}
