package bench

import "errors"

// Errors of the package.
var (
	// ErrConfig: a setting is out of range.
	ErrConfig = errors.New("bench: invalid configuration")
	// ErrScenario: no scenario has that name.
	ErrScenario = errors.New("bench: unknown scenario")
	// ErrAnswer: a start answer carries no session_id.
	ErrAnswer = errors.New("bench: answer has no session_id")
)
