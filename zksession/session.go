// Package zksession is a go-zookeeper session bound to ONE server whose every
// call honours a deadline. go-zookeeper retries forever on its own, so calls
// run in a goroutine and the connection is closed when the deadline passes.
// verify (reads, the canary) and journal (the rollout journal) share it.
package zksession

import (
	"context"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
)

type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}

// Session is a session to one server.
type Session struct {
	Conn *zk.Conn
	Addr string
}

// Dial opens a session to addr (host:port) and waits for it within timeout.
func Dial(ctx context.Context, addr string, timeout time.Duration) (*Session, error) {
	conn, events, err := zk.Connect([]string{addr}, 4*time.Second,
		zk.WithLogger(quietLogger{}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("session to %s: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				// Drain further events so go-zookeeper never blocks on them.
				go func() {
					for range events {
					}
				}()
				return &Session{Conn: conn, Addr: addr}, nil
			}
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("session to %s: no session within %s (timeout)", addr, timeout)
		}
	}
}

// Close ends the session.
func (s *Session) Close() { s.Conn.Close() }

// Do runs f with the deadline; on timeout the session is closed, which makes
// go-zookeeper fail the pending call. The error names what and the server.
func (s *Session) Do(ctx context.Context, timeout time.Duration, what string, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s on %s: %w", what, s.Addr, err)
		}
		return nil
	case <-ctx.Done():
		s.Conn.Close()
		<-done
		return fmt.Errorf("%s on %s: timeout after %s", what, s.Addr, timeout)
	}
}
