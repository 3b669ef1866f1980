package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
)

type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}

// session is a go-zookeeper session bound to ONE server (so that reads tell
// what that server sees) whose every call honours a deadline: go-zookeeper
// retries forever on its own, so calls run in a goroutine and the connection
// is closed when the context ends.
type session struct {
	conn *zk.Conn
	addr string
}

func dial(ctx context.Context, addr string, timeout time.Duration) (*session, error) {
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
				return &session{conn: conn, addr: addr}, nil
			}
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("session to %s: no session within %s (timeout)", addr, timeout)
		}
	}
}

func (s *session) close() { s.conn.Close() }

// do runs f with the deadline; on timeout the session is closed, which makes
// go-zookeeper fail the pending call.
func (s *session) do(ctx context.Context, timeout time.Duration, what string, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s on %s: %w", what, s.addr, err)
		}
		return nil
	case <-ctx.Done():
		s.conn.Close()
		<-done
		return fmt.Errorf("%s on %s: timeout after %s", what, s.addr, timeout)
	}
}

// readConfig syncs /zookeeper/config with the leader, then reads it: the
// committed membership as this server knows it (DESIGN.md: compare live state
// with /zookeeper/config after a sync, not with files on disk).
func readConfig(ctx context.Context, addr string, timeout time.Duration) (string, error) {
	s, err := dial(ctx, addr, timeout)
	if err != nil {
		return "", err
	}
	defer s.close()
	var data []byte
	err = s.do(ctx, timeout, "sync /zookeeper/config", func() error {
		_, err := s.conn.Sync("/zookeeper/config")
		return err
	})
	if err != nil {
		return "", err
	}
	err = s.do(ctx, timeout, "get /zookeeper/config", func() error {
		var err error
		data, _, err = s.conn.Get("/zookeeper/config")
		if errors.Is(err, zk.ErrNoNode) {
			return errors.New("no /zookeeper/config node (ZooKeeper before 3.5?)")
		}
		return err
	})
	return string(data), err
}
