package auth

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sign returns an HS256 token with the claims sub, iat (now), exp (now+ttl),
// and app and role when they are not empty. role must be "", "user" or
// "admin", sub non-empty and ttl positive; times are whole seconds.
func Sign(secret []byte, sub, app, role string, ttl time.Duration, now time.Time) (string, error) {
	switch {
	case len(secret) == 0:
		return "", ErrEmptySecret
	case sub == "":
		return "", fmt.Errorf("%w: sub must not be empty", ErrSign)
	case role != "" && role != "user" && role != "admin":
		return "", fmt.Errorf("%w: role %q is not \"user\" or \"admin\"", ErrSign, role)
	case ttl <= 0:
		return "", fmt.Errorf("%w: ttl %v is not positive", ErrSign, ttl)
	}
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if app != "" {
		claims["app"] = app
	}
	if role != "" {
		claims["role"] = role
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	return s, nil
}
