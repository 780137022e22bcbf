package sdk

import (
	"errors"
	"fmt"
	"time"
)

// Error is a failure that knows what to do next: try again (Retryable,
// no sooner than RetryAfter) or give up. Build one with Retryable, Final or
// ConfigError; the host hands it back to the runtime intact, and callers
// inspect it with errors.As.
type Error struct {
	Err       error
	Retryable bool
	// RetryAfter, when positive, is the least wait before the next try (a
	// provider's Retry-After).
	RetryAfter time.Duration
	// Field is the configuration field at fault, as a JSON pointer
	// ("/token"), for configuration errors.
	Field string
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "plugin error"
	}
	if e.Field != "" {
		return e.Field + ": " + e.Err.Error()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as worth trying again, no sooner than after (0: the
// runtime's own backoff).
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Retryable: true, RetryAfter: after}
}

// Final marks err as not worth trying again (a bad recipient, a message the
// provider refuses).
func Final(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// ConfigError refuses a configuration: field is a JSON pointer to the
// value at fault ("/token"; "" for the whole), the message says what to
// write instead. Never put a secret's value in it.
func ConfigError(field, format string, args ...any) error {
	return &Error{Err: fmt.Errorf(format, args...), Field: field}
}

// IsRetryable reports whether err is worth trying again: a *Error says so
// itself; any other error is.
func IsRetryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	return err != nil
}
