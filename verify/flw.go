// Package verify compares a live ZooKeeper ensemble with a stage manifest:
// it speaks the four-letter words itself (go-zookeeper's FLWSrvr cannot parse
// the 3.7+ srvr banner), parses srvr, mntr and conf, and runs the checks that
// gate the next stage (docs/zookeeper-facts.md).
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
)

// WordError is a four-letter word that did not give a usable answer. Kind
// names the cause so reports and callers can tell them apart.
type WordError struct {
	Addr string
	Word string
	Kind ErrorKind
	// Detail is the underlying error or the (truncated) answer.
	Detail string
}

// ErrorKind classifies a failed four-letter word.
type ErrorKind string

const (
	ErrRefused        ErrorKind = "connection refused"
	ErrTimeout        ErrorKind = "timeout"
	ErrNotWhitelisted ErrorKind = "not whitelisted"
	ErrNotServing     ErrorKind = "not serving"
	ErrGarbage        ErrorKind = "garbage answer"
	ErrEmpty          ErrorKind = "empty answer"
	ErrNetwork        ErrorKind = "network error"
)

func (e *WordError) Error() string {
	switch e.Kind {
	case ErrNotWhitelisted:
		return fmt.Sprintf("%s on %s: %q is not whitelisted: add %s to 4lw.commands.whitelist in zoo.cfg", e.Word, e.Addr, e.Word, e.Word)
	case ErrNotServing:
		return fmt.Sprintf("%s on %s: not currently serving requests", e.Word, e.Addr)
	case ErrGarbage:
		return fmt.Sprintf("%s on %s: garbage answer (not ZooKeeper?): %q", e.Word, e.Addr, e.Detail)
	case ErrEmpty:
		return fmt.Sprintf("%s on %s: empty answer (unknown word, or the connection was closed)", e.Word, e.Addr)
	}
	if e.Detail != "" {
		return fmt.Sprintf("%s on %s: %s: %s", e.Word, e.Addr, e.Kind, e.Detail)
	}
	return fmt.Sprintf("%s on %s: %s", e.Word, e.Addr, e.Kind)
}

// NotServing is ZooKeeper's answer to most words outside a quorum (seen on 3.8).
const NotServing = "This ZooKeeper instance is not currently serving requests"

// maxAnswer bounds what one word may return; mntr on 3.8 is about 10 KiB.
const maxAnswer = 1 << 20

// Word sends a four-letter word to addr (host:port) and reads the answer to
// EOF, all within timeout (and ctx). It never blocks past the deadline.
func Word(ctx context.Context, addr, word string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", classify(addr, word, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Close the socket when ctx is cancelled early so a read cannot outlive it.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := io.WriteString(conn, word); err != nil {
		return "", classify(addr, word, err)
	}
	b, err := io.ReadAll(io.LimitReader(conn, maxAnswer))
	if err != nil && len(b) == 0 {
		return "", classify(addr, word, err)
	}
	if err != nil {
		// Partial answer then a timeout: report the timeout, never half a parse.
		return "", classify(addr, word, err)
	}
	ans := string(b)
	trimmed := strings.TrimSpace(ans)
	switch {
	case trimmed == "":
		return "", &WordError{Addr: addr, Word: word, Kind: ErrEmpty}
	case strings.HasSuffix(trimmed, "is not executed because it is not in the whitelist."):
		return "", &WordError{Addr: addr, Word: word, Kind: ErrNotWhitelisted, Detail: trimmed}
	case trimmed == NotServing:
		return "", &WordError{Addr: addr, Word: word, Kind: ErrNotServing, Detail: trimmed}
	}
	return ans, nil
}

func classify(addr, word string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &WordError{Addr: addr, Word: word, Kind: ErrRefused}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &ne) && ne.Timeout():
		return &WordError{Addr: addr, Word: word, Kind: ErrTimeout}
	}
	return &WordError{Addr: addr, Word: word, Kind: ErrNetwork, Detail: err.Error()}
}

// garbage builds the error for an answer that does not parse.
func garbage(addr, word, ans string) error {
	if len(ans) > 80 {
		ans = ans[:80] + "..."
	}
	return &WordError{Addr: addr, Word: word, Kind: ErrGarbage, Detail: ans}
}
