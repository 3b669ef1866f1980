package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkstage/zkstage/zksession"
)

// Read syncs and reads the cluster's journal through the first of servers
// (host:port) that gives a session. No znode yet is an empty log.
func Read(ctx context.Context, servers []string, cluster string, timeout time.Duration) (*Log, error) {
	var errs []string
	for _, addr := range servers {
		l, err := readOne(ctx, addr, cluster, timeout)
		if err == nil {
			return l, nil
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("journal %s: %s", Path(cluster), strings.Join(errs, "; "))
}

func readOne(ctx context.Context, addr, cluster string, timeout time.Duration) (*Log, error) {
	s, err := zksession.Dial(ctx, addr, timeout)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return read(ctx, s, cluster, timeout)
}

func read(ctx context.Context, s *zksession.Session, cluster string, timeout time.Duration) (*Log, error) {
	p := Path(cluster)
	var data []byte
	var stat *zk.Stat
	// A sync first: the server answering may lag the leader.
	err := s.Do(ctx, timeout, "sync "+p, func() error {
		_, err := s.Conn.Sync("/")
		return err
	})
	if err != nil {
		return nil, err
	}
	err = s.Do(ctx, timeout, "get "+p, func() error {
		var err error
		data, stat, err = s.Conn.Get(p)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return &Log{Format: FormatVersion, Cluster: cluster, Version: -1}, nil
	}
	if err != nil {
		return nil, err
	}
	return decode(cluster, data, stat.Version)
}

// Append adds records to the cluster's journal through the first of servers
// that gives a session. The write is conditional on the version read, so
// two writers never lose each other's records: a lost race re-reads and
// tries again.
func Append(ctx context.Context, servers []string, cluster string, timeout time.Duration, recs ...Record) error {
	var errs []string
	for _, addr := range servers {
		err := appendOne(ctx, addr, cluster, timeout, recs)
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("journal %s: not written: %s", Path(cluster), strings.Join(errs, "; "))
}

func appendOne(ctx context.Context, addr, cluster string, timeout time.Duration, recs []Record) error {
	s, err := zksession.Dial(ctx, addr, timeout)
	if err != nil {
		return err
	}
	defer s.Close()
	p := Path(cluster)
	for attempt := 0; attempt < 5; attempt++ {
		l, err := read(ctx, s, cluster, timeout)
		if err != nil {
			return err
		}
		l.Records = append(l.Records, recs...)
		data, err := l.encode()
		if err != nil {
			return err
		}
		if l.Version < 0 {
			err = createWithParents(ctx, s, p, data, timeout)
		} else {
			err = s.Do(ctx, timeout, "set "+p, func() error {
				_, err := s.Conn.Set(p, data, l.Version)
				return err
			})
		}
		if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNodeExists) {
			continue // another writer came first: read again
		}
		return err
	}
	return fmt.Errorf("set %s: lost the race to concurrent writers 5 times", p)
}

func createWithParents(ctx context.Context, s *zksession.Session, p string, data []byte, timeout time.Duration) error {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := ""
	for i, part := range parts {
		cur += "/" + part
		var d []byte
		if i == len(parts)-1 {
			d = data
		}
		err := s.Do(ctx, timeout, "create "+cur, func() error {
			_, err := s.Conn.Create(cur, d, 0, zk.WorldACL(zk.PermAll))
			return err
		})
		if errors.Is(err, zk.ErrNodeExists) && i < len(parts)-1 {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
