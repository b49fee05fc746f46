package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// MaxTokenSize is the longest token Verify parses, in bytes.
	MaxTokenSize = 8 << 10
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway = 60 * time.Second
	// minRSABits is the smallest RSA modulus accepted (RFC 7518, section 3.3).
	minRSABits = 2048
)

// Verifier checks tokens against one key and its pinned algorithms.
// Build it with NewHS256 or NewFromPEM; it is safe for concurrent use.
type Verifier struct {
	key     any
	methods []string
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
	cache   *cache // nil: no cache
}

// NewHS256 returns a Verifier that accepts only HS256 tokens signed with
// secret. The secret is copied.
func NewHS256(secret []byte) (*Verifier, error) {
	if len(secret) == 0 {
		return nil, ErrEmptySecret
	}
	return newVerifier(bytes.Clone(secret), jwt.SigningMethodHS256.Alg()), nil
}

// NewFromPEM returns a Verifier for the first PEM block of pemBytes, a
// "PUBLIC KEY" (PKIX: RSA, ECDSA or Ed25519) or "RSA PUBLIC KEY" (PKCS #1).
// It accepts only the algorithms of the key's family (see the package doc).
func NewFromPEM(pemBytes []byte) (*Verifier, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a public key", ErrKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	methods, err := methodsFor(key)
	if err != nil {
		return nil, err
	}
	return newVerifier(key, methods...), nil
}

// methodsFor pins the algorithms a public key may verify.
func methodsFor(key any) ([]string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits, need at least %d", ErrKey, k.N.BitLen(), minRSABits)
		}
		return []string{"RS256", "RS384", "RS512", "PS256"}, nil
	case *ecdsa.PublicKey:
		return ecdsaMethod(k)
	case ed25519.PublicKey:
		return []string{"EdDSA"}, nil
	default:
		return nil, fmt.Errorf("%w: unsupported key type %T", ErrKey, key)
	}
}

func ecdsaMethod(k *ecdsa.PublicKey) ([]string, error) {
	switch name := k.Curve.Params().Name; name {
	case "P-256":
		return []string{"ES256"}, nil
	case "P-384":
		return []string{"ES384"}, nil
	case "P-521":
		return []string{"ES512"}, nil
	default:
		return nil, fmt.Errorf("%w: unsupported ECDSA curve %s", ErrKey, name)
	}
}

func newVerifier(key any, methods ...string) *Verifier {
	v := &Verifier{
		key:     key,
		methods: methods,
		parser: jwt.NewParser(
			jwt.WithValidMethods(methods),
			jwt.WithoutClaimsValidation(), // done by checkClaims with the caller's now
			jwt.WithStrictDecoding(),
		),
		cache: newCache(cacheCapacity),
	}
	v.keyFunc = v.keyFor
	return v
}

// keyFor is the jwt.Keyfunc. The parser has already refused other
// algorithms; checking again keeps the pinning local and obvious.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if !slices.Contains(v.methods, t.Method.Alg()) {
		return nil, errors.New("algorithm not accepted")
	}
	return v.key, nil
}

// Verify checks token (the bare JWT, without "Bearer ") at time now and
// returns its claims. Every error wraps ErrUnauthorized with the reason.
// Claims.Raw may be shared with other callers: do not modify it.
func (v *Verifier) Verify(token []byte, now time.Time) (Claims, error) {
	switch {
	case len(token) == 0:
		return Claims{}, unauthorized("missing token")
	case len(token) > MaxTokenSize:
		return Claims{}, unauthorized(fmt.Sprintf("token longer than %d bytes", MaxTokenSize))
	}
	if c, ok := v.cache.get(token, now); ok {
		return c, nil
	}
	c, w, err := v.verify(string(token), now)
	if err != nil {
		return Claims{}, err
	}
	v.cache.put(token, entry{claims: c, window: w}, now)
	return c, nil
}

// verify is the uncached path: signature, then claim types, then times.
func (v *Verifier) verify(token string, now time.Time) (Claims, window, error) {
	t, err := v.parser.ParseWithClaims(token, jwt.MapClaims{}, v.keyFunc)
	if err != nil {
		return Claims{}, window{}, v.parseError(t, err)
	}
	if _, ok := t.Header["crit"]; ok {
		return Claims{}, window{}, unauthorized(`header "crit" is not supported`)
	}
	raw := map[string]any(t.Claims.(jwt.MapClaims))
	c, w, err := checkClaims(raw)
	if err != nil {
		return Claims{}, window{}, err
	}
	if reason := w.problem(now); reason != "" {
		return Claims{}, window{}, unauthorized(reason)
	}
	return c, w, nil
}

// parseError turns a jwt parse error into a reason. The text of the
// library's error is not passed on: it may quote attacker-chosen bytes.
func (v *Verifier) parseError(t *jwt.Token, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("malformed token")
	case t != nil && t.Method != nil && !slices.Contains(v.methods, t.Method.Alg()):
		return unauthorized(fmt.Sprintf("algorithm %q is not accepted", t.Method.Alg()))
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauthorized("algorithm missing or not accepted")
	default:
		return unauthorized("invalid signature")
	}
}
