package zoocfg

import (
	"fmt"
	"strings"
)

// Error is a positioned complaint about a config file: "file:line: key: msg".
type Error struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Key  string `json:"key,omitempty"`
	Msg  string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	if p := pos(e.File, e.Line); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is a list of positioned errors, in file order.
type Errors []*Error

func (l Errors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Err returns nil for an empty list, so callers can `return errs.Err()`.
func (l Errors) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

func pos(file string, line int) string {
	switch {
	case file == "" && line == 0:
		return ""
	case line == 0:
		return file
	case file == "":
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("%s:%d", file, line)
}

func errorf(file string, line int, key, format string, args ...interface{}) *Error {
	return &Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}
