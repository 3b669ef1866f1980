// Package lab runs a real ZooKeeper ensemble on this machine, one JVM per
// host on its own loopback address, from the rendered files of a stage plus
// lab-only overrides. Everything it creates lives under one state directory;
// it only ever stops processes it started.
package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkstage/zkstage/verify"
	"github.com/zkstage/zkstage/zoocfg"
)

// File is one rendered file: "<host>/zoo.cfg", "<host>/myid" (other paths,
// such as stage.json, are ignored).
type File struct {
	Path string
	Data []byte
}

// Options configure a lab.
type Options struct {
	// State is the directory holding every host's config, data, log and pid.
	State string
	// ZooKeeperHome is an upstream install; empty: $ZKSTAGE_ZOOKEEPER_HOME,
	// then Homes, then the Debian package.
	ZooKeeperHome string
	// Homes is a folder of upstream installs named by version; empty:
	// $ZKSTAGE_ZOOKEEPER_HOMES.
	Homes string
	// Version is the ZooKeeper release the spec declares: the runtime must
	// be of the same release line (major.minor). Empty takes any.
	Version string
	// TickTime overrides the rendered tickTime when > 0.
	TickTime int
	// Overrides are extra zoo.cfg settings per host, applied last (tests use
	// them to narrow a whitelist, for instance).
	Overrides map[string]map[string]string
	// StopTimeout is how long SIGTERM may take before SIGKILL (default 10s).
	StopTimeout time.Duration
	// StartTimeout is how long a started server may take to listen on its
	// client port (default 60s).
	StartTimeout time.Duration
	// DieWithParent kills the JVMs when the starting process dies (tests).
	DieWithParent bool
	// JVMFlags are added to every JVM this lab starts, before the class
	// path (the CLI passes $SERVER_JVMFLAGS, as zkServer.sh does): a
	// superuser digest kept out of zoo.cfg, for instance.
	JVMFlags []string
}

// Lab is a lab ensemble rooted at a state directory.
type Lab struct {
	opts Options

	mu    sync.Mutex
	rt    *Runtime
	rtErr error
}

// New opens the lab and finds the runtime; a missing java or ZooKeeper is a
// *MissingError, a ZooKeeper of another release line a *VersionError.
func New(opts Options) (*Lab, error) {
	l, err := Open(opts)
	if err != nil {
		return nil, err
	}
	if _, err := l.runtime(); err != nil {
		return nil, err
	}
	return l, nil
}

// Open opens the lab in opts.State without looking for a runtime. Stopping,
// listing and probing the servers need only the state directory, /proc and
// the client ports, never ZooKeeper itself: a lab started with another
// runtime (or whose runtime was removed since) can always be brought down.
// The first start looks the runtime up, and fails as New would.
func Open(opts Options) (*Lab, error) {
	if opts.State == "" {
		return nil, errors.New("lab: no state directory")
	}
	abs, err := filepath.Abs(opts.State)
	if err != nil {
		return nil, err
	}
	opts.State = abs
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 10 * time.Second
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	return &Lab{opts: opts}, nil
}

// runtime finds the runtime once; Up starts hosts concurrently.
func (l *Lab) runtime() (*Runtime, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rt == nil && l.rtErr == nil {
		l.rt, l.rtErr = FindRuntime(l.opts.ZooKeeperHome, l.opts.Homes, l.opts.Version)
	}
	return l.rt, l.rtErr
}

// Runtime returns where java and ZooKeeper were found, or nil when they
// were not looked up (Open, and nothing started yet) or not found.
func (l *Lab) Runtime() *Runtime {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rt
}

// State returns the state directory.
func (l *Lab) State() string { return l.opts.State }

// HostStatus is one host of the lab as it is now.
type HostStatus struct {
	Host       string    `json:"host"`
	Address    string    `json:"address"`
	ClientPort int       `json:"clientPort"`
	MyID       int       `json:"myid"`
	Stage      int       `json:"stage"`
	Running    bool      `json:"running"`
	Pid        int       `json:"pid,omitempty"`
	Mode       string    `json:"mode,omitempty"` // srvr's mode, "not serving", or the probe error
	StartedAt  time.Time `json:"startedAt,omitempty"`
	Config     string    `json:"config"`
	Log        string    `json:"log"`
	// Action is what the last call did: started, restarted, stopped, kept.
	Action string `json:"action,omitempty"`
}

// record is host.json: what the lab started, so that later calls (and the
// fault tests) can tell whether and when a host was touched.
type record struct {
	Host       string    `json:"host"`
	Address    string    `json:"address"`
	ClientPort int       `json:"clientPort"`
	MyID       int       `json:"myid"`
	Stage      int       `json:"stage"`
	Pid        int       `json:"pid"`
	StartedAt  time.Time `json:"startedAt"`
	ConfigSum  string    `json:"configSha256"`
	// DynamicSum is the bootstrap dynamic file's (reconfiguration only).
	DynamicSum string `json:"dynamicSha256,omitempty"`
	// Config is the zoo.cfg the JVM runs when it is not the lab's own: a
	// host run in place from the files config management installed
	// (RunInstalled).
	Config string `json:"config,omitempty"`
}

// cfgOf is the zoo.cfg the host's JVM was started with, as its record says.
func (l *Lab) cfgOf(rec *record, host string) string {
	if rec != nil && rec.Config != "" {
		return rec.Config
	}
	return l.cfgPath(host)
}

func (l *Lab) dir(host string) string     { return filepath.Join(l.opts.State, host) }
func (l *Lab) cfgPath(host string) string { return filepath.Join(l.dir(host), "zoo.cfg") }
func (l *Lab) logPath(host string) string { return filepath.Join(l.dir(host), "zookeeper.log") }
func (l *Lab) dynPath(host string) string { return filepath.Join(l.dir(host), dynamicFile) }
func (l *Lab) pidPath(host string) string { return filepath.Join(l.dir(host), "zookeeper.pid") }

// renderedPath keeps, under reconfiguration, the zoo.cfg the lab last
// rendered for the host: ZooKeeper rewrites zoo.cfg itself, so new settings
// are the difference between two renders, made in place.
func (l *Lab) renderedPath(host string) string { return filepath.Join(l.dir(host), "zoo.cfg.rendered") }
func (l *Lab) recPath(host string) string      { return filepath.Join(l.dir(host), "host.json") }
func (l *Lab) dataPath(host string) string     { return filepath.Join(l.dir(host), "data") }

// StartsLog is the file, per host, with one line per start: time, pid, stage.
func (l *Lab) StartsLog(host string) string { return filepath.Join(l.dir(host), "starts.log") }

type hostFiles struct {
	cfg, myid, dynamic []byte
}

// groupFiles splits rendered files by host and parses each host's config.
func groupFiles(files []File) (map[string]*hostConfig, error) {
	by := map[string]*hostFiles{}
	for _, f := range files {
		dir, base := path.Split(filepath.ToSlash(f.Path))
		host := strings.TrimSuffix(dir, "/")
		if host == "" || strings.Contains(host, "/") {
			continue
		}
		hf := by[host]
		if hf == nil {
			hf = &hostFiles{}
			by[host] = hf
		}
		switch base {
		case "zoo.cfg":
			hf.cfg = f.Data
		case "myid":
			hf.myid = f.Data
		case dynamicFile:
			hf.dynamic = f.Data
		}
	}
	out := map[string]*hostConfig{}
	for host, hf := range by {
		if hf.cfg == nil || hf.myid == nil {
			return nil, fmt.Errorf("%s: needs both zoo.cfg and myid", host)
		}
		hc, err := parseHostFiles(host, hf.cfg, hf.myid, hf.dynamic)
		if err != nil {
			return nil, err
		}
		out[host] = hc
	}
	if len(out) == 0 {
		return nil, errors.New("no host files (<host>/zoo.cfg, <host>/myid) in the stage")
	}
	return out, nil
}

// Up makes the lab run exactly the hosts of the stage's files: hosts already
// running that config are kept, hosts whose config changed are restarted,
// missing ones started, and lab hosts not in the stage stopped. It returns
// once every host listens on its client port (serving or not).
func (l *Lab) Up(ctx context.Context, files []File, stage int) ([]HostStatus, error) {
	hosts, err := groupFiles(files)
	if err != nil {
		return nil, err
	}
	existing, _ := l.hosts()
	var stopErr []error
	for _, h := range existing {
		if _, ok := hosts[h]; !ok {
			if _, err := l.Stop(ctx, h); err != nil {
				stopErr = append(stopErr, err)
			}
		}
	}
	names := sortedKeys(hosts)
	res := make([]HostStatus, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, h := range names {
		wg.Add(1)
		go func(i int, h string) {
			defer wg.Done()
			res[i], errs[i] = l.ensure(ctx, h, hosts[h], stage, false)
		}(i, h)
	}
	wg.Wait()
	return res, errors.Join(append(stopErr, errs...)...)
}

// Start starts one host with the stage's files (kept if already running
// that config, restarted if its config changed).
func (l *Lab) Start(ctx context.Context, files []File, stage int, host string) (HostStatus, error) {
	hc, err := l.hostOf(files, host)
	if err != nil {
		return HostStatus{Host: host}, err
	}
	return l.ensure(ctx, host, hc, stage, false)
}

// Restart stops (if running) and starts one host with the stage's files.
func (l *Lab) Restart(ctx context.Context, files []File, stage int, host string) (HostStatus, error) {
	hc, err := l.hostOf(files, host)
	if err != nil {
		return HostStatus{Host: host}, err
	}
	return l.ensure(ctx, host, hc, stage, true)
}

func (l *Lab) hostOf(files []File, host string) (*hostConfig, error) {
	hosts, err := groupFiles(files)
	if err != nil {
		return nil, err
	}
	hc, ok := hosts[host]
	if !ok {
		return nil, fmt.Errorf("host %q has no files in this stage (hosts: %s)", host, strings.Join(sortedKeys(hosts), ", "))
	}
	return hc, nil
}

func (l *Lab) ensure(ctx context.Context, host string, hc *hostConfig, stage int, force bool) (HostStatus, error) {
	rt, err := l.runtime()
	if err != nil {
		return HostStatus{Host: host}, err
	}
	if err := os.MkdirAll(l.dataPath(host), 0o755); err != nil {
		return HostStatus{Host: host}, err
	}
	version := rt.Version
	if version == "" {
		version = l.opts.Version
	}
	extra := l.opts.Overrides[host]
	var dyn []byte
	if hc.dynLines != nil {
		// Under reconfiguration the dynamic file sits beside the lab's
		// zoo.cfg, where ZooKeeper also writes its zoo.cfg.dynamic.<version>.
		extra = map[string]string{"dynamicConfigFile": l.dynPath(host)}
		for k, v := range l.opts.Overrides[host] {
			extra[k] = v
		}
		dyn = labDynamic(hc)
	}
	cfg := labConfig(hc, l.dataPath(host), l.opts.TickTime, version, extra)
	sum := sha256.Sum256(append(append(append([]byte{}, cfg...), dyn...), []byte("myid="+strconv.Itoa(hc.MyID))...))
	want := hex.EncodeToString(sum[:])
	rec, _ := l.readRecord(host)
	action, kept, err := l.stopFor(ctx, host, hc, rec, force, func(r *record) bool { return r.ConfigSum == want })
	if kept != nil {
		return *kept, err
	}
	// Under reconfiguration ZooKeeper rewrites zoo.cfg and owns its dynamic
	// files: a restart onto the same rendered files keeps them, as config
	// management must (docs/config-management.md); only new files (the
	// enabling stage, a rename, a first start) are written.
	keepOwn := dyn != nil && rec != nil && rec.ConfigSum == want && isFile(l.cfgPath(host))
	dynSum := ""
	if dyn != nil {
		ds := sha256.Sum256(dyn)
		dynSum = hex.EncodeToString(ds[:])
	}
	// New settings for a member that keeps its id and bootstrap file: as
	// config management must, the lab edits ZooKeeper's own zoo.cfg in
	// place (its dynamicConfigFile names the configuration in force).
	settingsOnly := dyn != nil && !keepOwn && rec != nil && rec.MyID == hc.MyID && rec.DynamicSum == dynSum && isFile(l.cfgPath(host))
	switch {
	case keepOwn:
	case settingsOnly:
		if err := l.editInPlace(host, cfg); err != nil {
			return HostStatus{Host: host}, err
		}
	default:
		if err := os.WriteFile(l.cfgPath(host), cfg, 0o644); err != nil {
			return HostStatus{Host: host}, err
		}
		if dyn != nil {
			if err := os.WriteFile(l.dynPath(host), dyn, 0o644); err != nil {
				return HostStatus{Host: host}, err
			}
		}
	}
	if dyn != nil {
		if err := os.WriteFile(l.renderedPath(host), cfg, 0o644); err != nil {
			return HostStatus{Host: host}, err
		}
	}
	return l.launch(ctx, rt, &record{Host: host, Address: hc.Address, ClientPort: hc.ClientPort, MyID: hc.MyID, Stage: stage, ConfigSum: want, DynamicSum: dynSum}, action)
}

// stopFor readies a start of host: when its JVM runs, it is kept (not
// force and same(rec)) or stopped (action "restarted"); then the client
// port must be free. kept, when not nil, is what the caller returns: the
// kept host's status, or the host alone with err.
func (l *Lab) stopFor(ctx context.Context, host string, hc *hostConfig, rec *record, force bool, same func(*record) bool) (action string, kept *HostStatus, err error) {
	pid := readPid(l.pidPath(host))
	action = "started"
	if ours(pid, l.cfgOf(rec, host)) {
		if !force && rec != nil && rec.Pid == pid && same(rec) {
			st := l.status(ctx, host)
			st.Action = "kept"
			return "", &st, nil
		}
		if err := terminate(pid, l.cfgOf(rec, host), l.opts.StopTimeout); err != nil {
			return "", &HostStatus{Host: host}, err
		}
		action = "restarted"
	}
	// A server still exiting (or anyone else) may hold the address: starting
	// now would fail to bind while the port still answered, which would make
	// a dead start look healthy.
	if err := waitPortFree(ctx, net.JoinHostPort(hc.Address, strconv.Itoa(hc.ClientPort)), l.opts.StopTimeout); err != nil {
		return "", &HostStatus{Host: host}, fmt.Errorf("%s: %w", host, err)
	}
	return action, nil, nil
}

// launch writes the host's myid into its data folder, starts its JVM on
// rec's config and waits until it listens; rec gets the pid and the start
// time and is written.
func (l *Lab) launch(ctx context.Context, rt *Runtime, rec *record, action string) (HostStatus, error) {
	host := rec.Host
	if err := os.WriteFile(filepath.Join(l.dataPath(host), "myid"), []byte(strconv.Itoa(rec.MyID)+"\n"), 0o644); err != nil {
		return HostStatus{Host: host}, err
	}
	start := time.Now()
	pid, err := l.spawn(rt, l.cfgOf(rec, host), l.logPath(host), l.dir(host))
	if err != nil {
		return HostStatus{Host: host}, err
	}
	if err := os.WriteFile(l.pidPath(host), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return HostStatus{Host: host}, err
	}
	rec.Pid, rec.StartedAt = pid, start.UTC()
	if err := l.writeRecord(rec); err != nil {
		return HostStatus{Host: host}, err
	}
	if err := l.waitListening(ctx, host, rec); err != nil {
		return l.status(ctx, host), err
	}
	st := l.status(ctx, host)
	st.Action = action
	return st, nil
}

// waitListening waits until the host's client port accepts connections
// (ZooKeeper opens it before the election) or the JVM dies.
func (l *Lab) waitListening(ctx context.Context, host string, rec *record) error {
	addr := net.JoinHostPort(rec.Address, strconv.Itoa(rec.ClientPort))
	ctx, cancel := context.WithTimeout(ctx, l.opts.StartTimeout)
	defer cancel()
	for {
		if dead, how := died(rec.Pid, l.cfgOf(rec, host)); dead {
			time.Sleep(100 * time.Millisecond) // let the log flush
			if how != "" {
				how = " (" + how + ")"
			}
			return fmt.Errorf("%s: ZooKeeper (pid %d) exited during start-up%s; last lines of %s:\n%s", host, rec.Pid, how, l.logPath(host), tail(l.logPath(host), 4))
		}
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not listening on %s after %s (see %s)", host, addr, l.opts.StartTimeout, l.logPath(host))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitPortFree waits until nothing accepts connections on addr.
func waitPortFree(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return nil
		}
		c.Close()
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s is already in use by another process (another lab, or a server not started by this one?)", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops one host if the lab started it and it still runs: SIGTERM,
// then SIGKILL after Options.StopTimeout.
func (l *Lab) Stop(ctx context.Context, host string) (HostStatus, error) {
	return l.stop(ctx, host, false)
}

// Kill stops one host with SIGKILL, as an operator may stop a server that
// runs outside the committed configuration (rollout.StepEnv.Outside): its
// clients see the connection close at once instead of after the JVM's
// exit.
func (l *Lab) Kill(ctx context.Context, host string) (HostStatus, error) {
	return l.stop(ctx, host, true)
}

func (l *Lab) stop(ctx context.Context, host string, sigkill bool) (HostStatus, error) {
	if _, err := os.Stat(l.dir(host)); err != nil {
		return HostStatus{Host: host}, fmt.Errorf("host %q is not part of the lab in %s", host, l.opts.State)
	}
	pid := readPid(l.pidPath(host))
	action := "not running"
	rec, _ := l.readRecord(host)
	if cfg := l.cfgOf(rec, host); ours(pid, cfg) {
		var err error
		if sigkill {
			err, action = kill(pid, cfg), "killed"
		} else {
			err, action = terminate(pid, cfg, l.opts.StopTimeout), "stopped"
		}
		if err != nil {
			return l.status(ctx, host), err
		}
	}
	_ = os.Remove(l.pidPath(host))
	st := l.status(ctx, host)
	st.Action = action
	return st, nil
}

// Down stops every host the lab started. Data stays in the state directory.
func (l *Lab) Down(ctx context.Context) ([]HostStatus, error) {
	hosts, err := l.hosts()
	if err != nil {
		return nil, err
	}
	res := make([]HostStatus, len(hosts))
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func(i int, h string) {
			defer wg.Done()
			res[i], errs[i] = l.Stop(ctx, h)
		}(i, h)
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// Status reports every host of the lab, with its mode from srvr.
func (l *Lab) Status(ctx context.Context) ([]HostStatus, error) {
	hosts, err := l.hosts()
	if err != nil {
		return nil, err
	}
	res := make([]HostStatus, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func(i int, h string) {
			defer wg.Done()
			res[i] = l.status(ctx, h)
		}(i, h)
	}
	wg.Wait()
	return res, nil
}

// HostStatus reports one host.
func (l *Lab) HostStatus(ctx context.Context, host string) HostStatus { return l.status(ctx, host) }

func (l *Lab) status(ctx context.Context, host string) HostStatus {
	st := HostStatus{Host: host, Config: l.cfgPath(host), Log: l.logPath(host)}
	rec, err := l.readRecord(host)
	if err != nil {
		st.Mode = "unknown (no host.json)"
		return st
	}
	st.Config = l.cfgOf(rec, host)
	st.Address, st.ClientPort, st.MyID, st.Stage, st.StartedAt = rec.Address, rec.ClientPort, rec.MyID, rec.Stage, rec.StartedAt
	pid := readPid(l.pidPath(host))
	if !ours(pid, st.Config) {
		st.Mode = "stopped"
		return st
	}
	st.Running, st.Pid = true, pid
	out, err := verify.Word(ctx, net.JoinHostPort(rec.Address, strconv.Itoa(rec.ClientPort)), "srvr", time.Second)
	if err != nil {
		var we *verify.WordError
		if errors.As(err, &we) && we.Kind == verify.ErrNotServing {
			st.Mode = "not serving"
		} else {
			st.Mode = err.Error()
		}
		return st
	}
	if s, err := verify.ParseSrvr(out); err == nil {
		st.Mode = s.Mode
	} else {
		st.Mode = err.Error()
	}
	return st
}

// hosts lists the hosts that have a directory with a host.json in the state dir.
func (l *Lab) hosts() ([]string, error) {
	ents, err := os.ReadDir(l.opts.State)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			if _, err := os.Stat(l.recPath(e.Name())); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func (l *Lab) readRecord(host string) (*record, error) {
	b, err := os.ReadFile(l.recPath(host))
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", l.recPath(host), err)
	}
	return &r, nil
}

func (l *Lab) writeRecord(r *record) error {
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(l.recPath(r.Host), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(l.StartsLog(r.Host), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s pid=%d stage=%d\n", r.StartedAt.Format(time.RFC3339Nano), r.Pid, r.Stage)
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// editInPlace makes, in the host's zoo.cfg as ZooKeeper keeps it, the edits
// between the zoo.cfg the lab rendered last and cfg.
func (l *Lab) editInPlace(host string, cfg []byte) error {
	prev, err := os.ReadFile(l.renderedPath(host))
	if err != nil {
		return fmt.Errorf("%s: new settings under reconfiguration need the zoo.cfg the lab rendered before: %w", host, err)
	}
	edits, err := zoocfg.Edits(prev, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", host, err)
	}
	own, err := os.ReadFile(l.cfgPath(host))
	if err != nil {
		return err
	}
	return os.WriteFile(l.cfgPath(host), zoocfg.Apply(own, edits), 0o644)
}
