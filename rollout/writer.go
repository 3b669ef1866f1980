package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}

// Writer is a client that writes sequential znodes under one path, one at a
// time, on its own session across every server, for as long as a roll lasts.
// The longest gap between two acknowledged writes is the client-visible
// write stall; every acknowledged write must still be there at the end.
type Writer struct {
	path     string
	servers  []string
	interval time.Duration
	conn     *zk.Conn

	mu       sync.Mutex
	acks     []time.Time
	names    []string
	failures []time.Time
	lastErr  string

	cancel context.CancelFunc
	done   chan struct{}
	start  time.Time
}

// WriterOptions tune a Writer.
type WriterOptions struct {
	// Interval is the pause between two writes (default 20ms).
	Interval time.Duration
	// SessionTimeout (default 4s, the most a 200 ms tickTime allows).
	SessionTimeout time.Duration
	// Timeout bounds the connection and the creation of the path (10s).
	Timeout time.Duration
	// First, one of the servers, is where the session starts; when that
	// connection drops the client tries the others in order, then First
	// again. Empty: the client's own shuffled order. Benchmarks use it to
	// put the client on the host whose restart they measure.
	First string
}

// StartWriter connects to the servers ("host:port"), creates path (and its
// parents) and starts writing path/w-<seq> znodes in the background.
func StartWriter(ctx context.Context, servers []string, path string, o WriterOptions) (*Writer, error) {
	if !strings.HasPrefix(path, "/") || path == "/" || strings.HasSuffix(path, "/") {
		return nil, fmt.Errorf("canary path %q: want an absolute znode path such as /zkstage-canary", path)
	}
	if o.Interval <= 0 {
		o.Interval = 20 * time.Millisecond
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 4 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	var conn *zk.Conn
	var events <-chan zk.Event
	var err error
	switch {
	case o.First == "":
		conn, events, err = zk.Connect(servers, o.SessionTimeout, zk.WithLogger(quietLogger{}), zk.WithLogInfo(false))
	case !slices.Contains(servers, o.First):
		return nil, fmt.Errorf("canary writer: first server %s is not one of %s", o.First, strings.Join(servers, ","))
	default:
		conn, events, err = zk.Connect(servers, o.SessionTimeout, zk.WithLogger(quietLogger{}), zk.WithLogInfo(false),
			zk.WithHostProvider(&orderedHosts{first: o.First}))
	}
	if err != nil {
		return nil, fmt.Errorf("canary writer: %w", err)
	}
	go func() {
		for range events {
		}
	}()
	w := &Writer{path: path, servers: servers, interval: o.Interval, conn: conn, done: make(chan struct{})}
	if err := w.ensurePath(ctx, o.Timeout); err != nil {
		conn.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.start = time.Now()
	go w.loop(wctx)
	return w, nil
}

// ensurePath creates path and its parents, within timeout.
func (w *Writer) ensurePath(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	parts := strings.Split(strings.TrimPrefix(w.path, "/"), "/")
	cur := ""
	for _, p := range parts {
		cur += "/" + p
		for {
			_, err := w.conn.Create(cur, nil, 0, zk.WorldACL(zk.PermAll))
			if err == nil || errors.Is(err, zk.ErrNodeExists) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("canary writer: create %s: %v (servers %s)", cur, err, strings.Join(w.servers, ","))
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

func (w *Writer) loop(ctx context.Context) {
	defer close(w.done)
	seq := 0
	for ctx.Err() == nil {
		seq++
		name, err := w.conn.Create(w.path+"/w-", []byte(strconv.Itoa(seq)), zk.FlagSequence, zk.WorldACL(zk.PermAll))
		now := time.Now()
		w.mu.Lock()
		if err == nil {
			w.acks = append(w.acks, now)
			w.names = append(w.names, name[strings.LastIndexByte(name, '/')+1:])
		} else if ctx.Err() == nil {
			w.failures = append(w.failures, now)
			w.lastErr = err.Error()
		}
		w.mu.Unlock()
		pause := w.interval
		if err != nil {
			// Do not spin while the client reconnects.
			pause = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

// WriteStats are the writer's figures over a window.
type WriteStats struct {
	Acked  int           `json:"acked"`
	Failed int           `json:"failed"`
	Stall  time.Duration `json:"longestStallNs"`
}

// Stats returns the writes acknowledged and failed in [from, to), and the
// longest stall: the longest gap between two acknowledged writes that ends
// in the window, counted from the last acknowledged write before it, or the
// gap still open at the window's end.
func (w *Writer) Stats(from, to time.Time) WriteStats {
	start, end := w.longestGap(from, to)
	w.mu.Lock()
	defer w.mu.Unlock()
	s := WriteStats{Stall: end.Sub(start)}
	first := sort.Search(len(w.acks), func(i int) bool { return !w.acks[i].Before(from) })
	last := sort.Search(len(w.acks), func(i int) bool { return !w.acks[i].Before(to) })
	s.Acked = max(last-first, 0)
	for _, f := range w.failures {
		if !f.Before(from) && f.Before(to) {
			s.Failed++
		}
	}
	return s
}

// longestGap is the interval of Stats(from, to).Stall: when it began (the
// last acknowledged write before it, or from) and ended.
func (w *Writer) longestGap(from, to time.Time) (start, end time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := sort.Search(len(w.acks), func(i int) bool { return !w.acks[i].Before(from) })
	prev := from
	if i > 0 {
		prev = w.acks[i-1]
	} else if w.start.After(prev) {
		prev = w.start
	}
	for ; i < len(w.acks) && w.acks[i].Before(to); i++ {
		if w.acks[i].Sub(prev) > end.Sub(start) {
			start, end = prev, w.acks[i]
		}
		prev = w.acks[i]
	}
	if to.Sub(prev) > end.Sub(start) {
		start, end = prev, to
	}
	return start, end
}

// LastError is the last failed write's error.
func (w *Writer) LastError() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// Stop ends the writing (the session stays open for Check and Cleanup).
func (w *Writer) Stop() {
	w.cancel()
	<-w.done
}

// Close stops the writer and closes its session.
func (w *Writer) Close() {
	w.Stop()
	w.conn.Close()
}

// Acked returns the names (w-NNNNNNNNNN) of every acknowledged write.
func (w *Writer) Acked() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.names...)
}

// Check reads the path's children after a sync and returns the acknowledged
// writes that are missing. It stops the writer first.
func (w *Writer) Check(ctx context.Context, timeout time.Duration) (missing []string, err error) {
	w.Stop()
	children, err := w.children(ctx, timeout)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(children))
	for _, c := range children {
		have[c] = true
	}
	for _, n := range w.Acked() {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

func (w *Writer) children(ctx context.Context, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type res struct {
		c   []string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		if _, err := w.conn.Sync(w.path); err != nil {
			ch <- res{nil, err}
			return
		}
		c, _, err := w.conn.Children(w.path)
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("canary writer: read %s: %w", w.path, r.err)
		}
		return r.c, nil
	case <-ctx.Done():
		w.conn.Close()
		return nil, fmt.Errorf("canary writer: read %s: timeout after %s", w.path, timeout)
	}
}

// Cleanup deletes every child of the path, then the path (not its
// parents), in batches, so a canary leaves nothing behind on a real cluster.
func (w *Writer) Cleanup(ctx context.Context, timeout time.Duration) error {
	w.Stop()
	children, err := w.children(ctx, timeout)
	if err != nil {
		return err
	}
	for len(children) > 0 {
		n := min(len(children), 500)
		ops := make([]interface{}, 0, n)
		for _, c := range children[:n] {
			ops = append(ops, &zk.DeleteRequest{Path: w.path + "/" + c, Version: -1})
		}
		if _, err := w.conn.Multi(ops...); err != nil {
			return fmt.Errorf("canary writer: delete under %s: %w", w.path, err)
		}
		children = children[n:]
	}
	if err := w.conn.Delete(w.path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("canary writer: delete %s: %w", w.path, err)
	}
	return nil
}

// orderedHosts is a zk.HostProvider that tries first, then the other
// servers in their given order, round and round. Like the client's own
// provider, it reports retryStart when it comes back to the server it was
// last connected to without a connection in between (the client then
// pauses a second).
type orderedHosts struct {
	first   string
	mu      sync.Mutex
	servers []string
	next    int
	tried   int // servers handed out since the last connection
}

func (h *orderedHosts) Init(servers []string) error {
	h.servers = append([]string{h.first}, slices.DeleteFunc(slices.Clone(servers), func(s string) bool { return s == h.first })...)
	return nil
}

func (h *orderedHosts) Len() int { return len(h.servers) }

func (h *orderedHosts) Next() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.servers[h.next]
	h.next = (h.next + 1) % len(h.servers)
	h.tried++
	retry := h.tried > len(h.servers)
	if retry {
		h.tried = 1 // a new round from s
	}
	return s, retry
}

func (h *orderedHosts) Connected() {
	h.mu.Lock()
	h.tried = 1 // the connected server counts as handed out
	h.mu.Unlock()
}
