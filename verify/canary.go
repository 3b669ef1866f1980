package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkstage/zkstage/compiler"
)

// canary writes an ephemeral znode through one member (so it cannot outlive
// a crash of the verifier), syncs and reads it back from every member, then
// deletes it.
func canary(ctx context.Context, path string, via compiler.Member, members []compiler.Member, timeout time.Duration) Check {
	c := Check{Name: "canary", Status: Fail}
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	value := []byte("zkstage-canary-" + hex.EncodeToString(token))
	w, err := dial(ctx, clientAddr(via), timeout)
	if err != nil {
		c.Message = err.Error()
		return c
	}
	defer w.Close()
	err = w.Do(ctx, timeout, "create "+path, func() error {
		_, err := w.Conn.Create(path, value, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
		return err
	})
	if err != nil {
		c.Message = err.Error()
		return c
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("wrote %s through %s (id %d)", path, via.Host, via.ID))
	var mu sync.Mutex
	var wg sync.WaitGroup
	bad := 0
	results := make([]string, len(members))
	for i, m := range members {
		wg.Add(1)
		go func(i int, m compiler.Member) {
			defer wg.Done()
			got, err := readBack(ctx, clientAddr(m), path, timeout)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				bad++
				results[i] = fmt.Sprintf("%s: %v", m.Host, err)
			case got != string(value):
				bad++
				results[i] = fmt.Sprintf("%s: read %q, wrote %q", m.Host, got, value)
			default:
				results[i] = fmt.Sprintf("%s: read back after sync", m.Host)
			}
		}(i, m)
	}
	wg.Wait()
	c.Evidence = append(c.Evidence, results...)
	derr := w.Do(ctx, timeout, "delete "+path, func() error { return w.Conn.Delete(path, -1) })
	switch {
	case bad > 0:
		c.Message = fmt.Sprintf("%d of %d members did not read the canary back", bad, len(members))
	case derr != nil:
		c.Message = derr.Error()
	default:
		c.Status = Pass
		c.Message = fmt.Sprintf("written, read back from all %d members, deleted", len(members))
	}
	return c
}

func readBack(ctx context.Context, addr, path string, timeout time.Duration) (string, error) {
	s, err := dial(ctx, addr, timeout)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var data []byte
	if err := s.Do(ctx, timeout, "sync "+path, func() error { _, err := s.Conn.Sync(path); return err }); err != nil {
		return "", err
	}
	err = s.Do(ctx, timeout, "get "+path, func() error {
		var err error
		data, _, err = s.Conn.Get(path)
		return err
	})
	return string(data), err
}

func clientAddr(m compiler.Member) string {
	return net.JoinHostPort(m.Address, strconv.Itoa(m.ClientPort))
}
