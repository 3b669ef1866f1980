package verify

import (
	"context"
	"errors"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkstage/zkstage/zksession"
)

var dial = zksession.Dial

// readConfig syncs /zookeeper/config with the leader, then reads it: the
// committed membership as this server knows it (docs/zookeeper-facts.md: compare live state
// with /zookeeper/config after a sync, not with files on disk).
func readConfig(ctx context.Context, addr string, timeout time.Duration) (string, error) {
	s, err := dial(ctx, addr, timeout)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var data []byte
	err = s.Do(ctx, timeout, "sync /zookeeper/config", func() error {
		_, err := s.Conn.Sync("/zookeeper/config")
		return err
	})
	if err != nil {
		return "", err
	}
	err = s.Do(ctx, timeout, "get /zookeeper/config", func() error {
		var err error
		data, _, err = s.Conn.Get("/zookeeper/config")
		if errors.Is(err, zk.ErrNoNode) {
			return errors.New("no /zookeeper/config node (ZooKeeper before 3.5?)")
		}
		return err
	})
	return string(data), err
}
