package digest

import (
	"errors"
	"fmt"
)

// Error codes. They say what kind of failure happened, so that callers (a
// chat reply, a CLI exit code, an HTTP status) can react without parsing
// messages.
const (
	EINVALID     = "invalid"      // the input is malformed or out of range
	ENOTFOUND    = "not_found"    // the thing asked for does not exist
	ECONFLICT    = "conflict"     // the thing already exists or the state forbids the change
	EFORBIDDEN   = "forbidden"    // the caller may not do this
	ERATELIMITED = "rate_limited" // the caller must slow down
	EUNAVAILABLE = "unavailable"  // an external service failed; retrying later may work
	EINTERNAL    = "internal"     // our own fault; the cause is logged, not shown
)

// Error is a failure a user may see. Message is written for that user; it
// never contains secrets or internal detail.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain, or a generic apology for internal errors (whose cause belongs in the
// log, not in a chat reply).
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Sorry, something went wrong on our side. The operator can find the details in the log."
	}
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }

// IsConflict reports whether err carries ECONFLICT.
func IsConflict(err error) bool { return ErrorCode(err) == ECONFLICT }
