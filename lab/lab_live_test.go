package lab_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/verify"
)

// The lab package's live tests use 127.0.11.x .. 127.0.19.x only. The
// tests that run on every version of the matrix do so one version after the
// other, each in its own subtest whose ensemble is down before the next.

// three is a three-server ensemble of the version on 127.0.<octet>.1-3.
func three(version string, octet int) labtest.Ensemble {
	e := labtest.Ensemble{Name: "labtest", Version: version}
	for i := 1; i <= 3; i++ {
		e.Hosts = append(e.Hosts, labtest.Host{Name: fmt.Sprintf("a%d", i), Address: fmt.Sprintf("127.0.%d.%d", octet, i), ID: i, DC: "dc1"})
	}
	return e
}

// eachVersion runs f as one subtest per version of the matrix.
func eachVersion(t *testing.T, f func(t *testing.T, version string)) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { f(t, v) })
	}
}

func byHost(st []lab.HostStatus) map[string]lab.HostStatus {
	m := map[string]lab.HostStatus{}
	for _, s := range st {
		m[s.Host] = s
	}
	return m
}

// alive reports whether pid runs and is not a zombie, allowing a moment for
// the lab's reaper goroutine to collect an exited child.
func alive(pid int) bool {
	for i := 0; i < 20; i++ {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if j := strings.LastIndexByte(string(st), ')'); j >= 0 && j+2 < len(st) && st[j+2] == 'Z' {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		return true
	}
	return false
}

// TestLabLifecycle runs one three-host ensemble of each version through up,
// idempotent up, status, stop/start/restart of one host, a config change
// and down.
func TestLabLifecycle(t *testing.T) { eachVersion(t, lifecycle) }

func lifecycle(t *testing.T, version string) {
	three := three(version, 11)
	l := labtest.NewLabVersion(t, version, nil)
	ctx := context.Background()
	labtest.Up(t, l, three, 60*time.Second)

	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaders := 0
	for _, s := range st {
		if !s.Running || s.Pid == 0 || s.Log == "" || s.StartedAt.IsZero() {
			t.Errorf("status %+v: want running with pid, log and start time", s)
		}
		if s.Mode == "leader" {
			leaders++
		}
		if _, err := os.Stat(s.Log); err != nil {
			t.Errorf("log of %s: %v", s.Host, err)
		}
	}
	if leaders != 1 {
		t.Errorf("want one leader, status %+v", st)
	}
	// The effective config carries the lab overrides.
	cfg, err := os.ReadFile(byHost(st)["a1"].Config)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"clientPortAddress=127.0.11.1", "dataDir=" + filepath.Join(l.State(), "a1", "data")}
	var unwanted []string
	if strings.HasPrefix(version, "3.4.") {
		// 3.4.6 has neither an AdminServer nor a whitelist, nor a client
		// part on server lines.
		want = append(want, "server.2=127.0.11.2:2555:3555\n")
		unwanted = []string{"admin.enableServer", "4lw.commands.whitelist", ";"}
	} else {
		want = append(want, "admin.enableServer=false", "4lw.commands.whitelist=*", "server.2=127.0.11.2:2555:3555;127.0.11.2:2181")
	}
	for _, w := range want {
		if !strings.Contains(string(cfg), w) {
			t.Errorf("a1 zoo.cfg lacks %q:\n%s", w, cfg)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(string(cfg), u) {
			t.Errorf("a1 zoo.cfg for %s has %q:\n%s", version, u, cfg)
		}
	}

	// Up again: nothing restarts.
	again, err := l.Up(ctx, three.Files(), 0)
	if err != nil {
		t.Fatal(err)
	}
	before := byHost(st)
	for _, s := range again {
		if s.Action != "kept" || s.Pid != before[s.Host].Pid {
			t.Errorf("second up touched %s: action %q pid %d (was %d)", s.Host, s.Action, s.Pid, before[s.Host].Pid)
		}
	}

	// Stop one follower: it is gone, the others keep serving.
	s1, err := l.Stop(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if s1.Running || s1.Action != "stopped" || alive(before["a1"].Pid) {
		t.Fatalf("stop a1: %+v (pid %d alive %v)", s1, before["a1"].Pid, alive(before["a1"].Pid))
	}
	if s := l.HostStatus(ctx, "a1"); s.Mode != "stopped" {
		t.Errorf("a1 mode after stop %q", s.Mode)
	}
	// Stop again is harmless.
	if s, err := l.Stop(ctx, "a1"); err != nil || s.Action != "not running" {
		t.Errorf("second stop: %+v %v", s, err)
	}
	s1, err = l.Start(ctx, three.Files(), 0, "a1")
	if err != nil || !s1.Running || s1.Action != "started" {
		t.Fatalf("start a1: %+v %v", s1, err)
	}
	// Restart with a later stage number: new pid, later start time, logged.
	s2 := byHost(st)["a2"]
	r2, err := l.Restart(ctx, three.Files(), 1, "a2")
	if err != nil {
		t.Fatal(err)
	}
	if r2.Pid == s2.Pid || !r2.StartedAt.After(s2.StartedAt) || r2.Stage != 1 || r2.Action != "restarted" || alive(s2.Pid) {
		t.Errorf("restart a2: %+v (before %+v)", r2, s2)
	}
	starts, _ := os.ReadFile(l.StartsLog("a2"))
	if n := strings.Count(string(starts), "\n"); n != 2 || !strings.Contains(string(starts), "stage=1") {
		t.Errorf("a2 starts.log:\n%s", starts)
	}
	if _, err := l.Start(ctx, three.Files(), 0, "nope"); err == nil || !strings.Contains(err.Error(), `host "nope" has no files`) {
		t.Errorf("start unknown host: %v", err)
	}
	labtest.WaitServing(t, l, 30*time.Second)

	// A changed config restarts only the host whose config changed.
	l2, err := lab.New(lab.Options{State: l.State(), TickTime: 200, DieWithParent: true,
		Homes: labtest.Homes(), Version: version,
		Overrides: map[string]map[string]string{"a1": {"maxClientCnxns": "100"}}})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := l.Status(ctx)
	res, err := l2.Up(ctx, three.Files(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res {
		want := "kept"
		if s.Host == "a1" {
			want = "restarted"
		}
		if s.Action != want {
			t.Errorf("up with a1's config changed: %s %s, want %s", s.Host, s.Action, want)
		}
	}

	// Down stops everything it started, and only that: a process that is
	// not this lab's JVM, named by a stale pid file, survives.
	stranger := exec.Command("sleep", "60")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stranger.Process.Kill(); _ = stranger.Wait() })
	s3 := byHost(cur)["a3"]
	if err := os.WriteFile(filepath.Join(l.State(), "a3", "zookeeper.pid"), []byte(strconv.Itoa(stranger.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	down, err := l.Down(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range down {
		if s.Running {
			t.Errorf("after down %s still running", s.Host)
		}
	}
	if !alive(stranger.Process.Pid) {
		t.Error("down killed a process the lab did not start")
	}
	// a3's real JVM is no longer known to the lab (its pid file was
	// overwritten): stop it by hand so the test leaves nothing behind.
	if alive(s3.Pid) {
		_ = syscall.Kill(-s3.Pid, syscall.SIGKILL)
	}
	for _, s := range res {
		if s.Host != "a3" && alive(s.Pid) {
			st, _ := os.ReadFile("/proc/" + strconv.Itoa(s.Pid) + "/stat")
			t.Errorf("%s pid %d survived down: %s", s.Host, s.Pid, st)
		}
	}
}

func TestLabRefusesNonLoopback(t *testing.T) {
	l := labtest.NewLab(t, nil)
	bad := labtest.Ensemble{Name: "bad", Hosts: []labtest.Host{{Name: "x1", Address: "192.168.1.100", ID: 1, DC: "dc1"}}}
	_, err := l.Up(context.Background(), bad.Files(), 0)
	if err == nil || !strings.Contains(err.Error(), "outside 127.0.0.0/8") {
		t.Fatalf("got %v", err)
	}
	if st, _ := l.Status(context.Background()); len(st) != 0 {
		t.Errorf("something was started: %+v", st)
	}
}

// A server that cannot start (an override breaks its config) is reported
// with the cause and the end of its log, on every version: the cause is in
// the log only if the JVM's logging reaches the host's log file.
func TestLabStartFailureShowsLog(t *testing.T) { eachVersion(t, startFailureShowsLog) }

func startFailureShowsLog(t *testing.T, version string) {
	l := labtest.NewLabVersion(t, version, map[string]map[string]string{"b1": {"initLimit": "zero"}})
	one := labtest.Ensemble{Name: "one", Version: version, Hosts: []labtest.Host{{Name: "b1", Address: "127.0.12.1", ID: 1, DC: "dc1"}, {Name: "b2", Address: "127.0.12.2", ID: 2, DC: "dc1"}}}
	_, err := l.Start(context.Background(), one.Files(), 0, "b1")
	if err == nil || !strings.Contains(err.Error(), "exited during start-up (exit status ") || !strings.Contains(err.Error(), `For input string: "zero"`) {
		t.Fatalf("got %v", err)
	}
}

// A JVM started with DieWithParent must outlive the goroutine and the OS
// thread that asked for it: Linux sends Pdeathsig when the forking thread
// exits, and a goroutine that returns with its thread locked ends that
// thread. Before the lab forked on a thread of its own, this killed a
// server in the middle of its start-up (CI, gitops live test).
var errMainThread = errors.New("ran on the main thread")

func TestLabServerOutlivesTheStartingThread(t *testing.T) {
	l := labtest.NewLab(t, nil)
	one := labtest.Ensemble{Name: "one", Hosts: []labtest.Host{{Name: "c1", Address: "127.0.13.1", ID: 1, DC: "dc1"}}}
	type result struct {
		st  lab.HostStatus
		err error
	}
	done, release := make(chan result), make(chan struct{})
	defer close(release)
	var r result
	for tries := 0; ; tries++ {
		go func() {
			runtime.LockOSThread()
			if syscall.Gettid() == os.Getpid() {
				// The runtime never ends the main thread: hold it until
				// the test ends, so the next try runs on another one.
				done <- result{err: errMainThread}
				<-release
				runtime.UnlockOSThread()
				return
			}
			// Returns still locked: the runtime ends this thread.
			st, err := l.Start(context.Background(), one.Files(), 0, "c1")
			done <- result{st, err}
		}()
		if r = <-done; r.err != errMainThread || tries == 100 {
			break
		}
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Give the runtime time to end the thread and the kernel to deliver a
	// Pdeathsig if one were due.
	time.Sleep(time.Second)
	if !alive(r.st.Pid) {
		t.Fatalf("c1 (pid %d) died after the thread that started it ended", r.st.Pid)
	}
}

// TestLabRoles starts three servers of each version and checks, from each
// server's own srvr answer, that every host serves the version asked for
// with one leader, through a follower's restart (the leader stays), the
// leader's restart (another host leads, the old leader follows), and a stop
// and start of a follower (the other two keep serving).
func TestLabRoles(t *testing.T) { eachVersion(t, roles) }

func roles(t *testing.T, version string) {
	e := three(version, 14)
	l := labtest.NewLabVersion(t, version, nil)
	ctx := context.Background()
	if rt := l.Runtime(); rt == nil || !sameLine(rt.Version, version) {
		t.Fatalf("runtime for %s: %+v", version, rt)
	}
	t.Logf("%s from %s", version, l.Runtime().Source)
	start := time.Now()
	labtest.Up(t, l, e, 60*time.Second)
	t.Logf("%s: three servers serving %s after the start", version, time.Since(start).Round(10*time.Millisecond))
	leader := oneLeader(t, l, e, version)
	// The lab's log is where the JVM's logging goes, whatever the logging
	// library (log4j 1.2 from the home's conf/, or slf4j-simple).
	if log, err := os.ReadFile(l.HostStatus(ctx, leader).Log); err != nil || !strings.Contains(string(log), "LEADING") {
		t.Errorf("leader %s's log has no LEADING line (%v):\n%s", leader, err, log)
	}

	follower := "a1"
	if leader == follower {
		follower = "a2"
	}
	before := l.HostStatus(ctx, follower)
	r, err := l.Restart(ctx, e.Files(), 0, follower)
	if err != nil || r.Pid == before.Pid || r.Action != "restarted" {
		t.Fatalf("restart follower %s: %+v %v (pid before %d)", follower, r, err, before.Pid)
	}
	labtest.WaitServing(t, l, 30*time.Second)
	if got := oneLeader(t, l, e, version); got != leader {
		t.Errorf("restarting follower %s moved the leader from %s to %s", follower, leader, got)
	}

	start = time.Now()
	if _, err := l.Restart(ctx, e.Files(), 0, leader); err != nil {
		t.Fatalf("restart leader %s: %v", leader, err)
	}
	labtest.WaitServing(t, l, 30*time.Second)
	t.Logf("%s: serving again %s after the leader's restart", version, time.Since(start).Round(10*time.Millisecond))
	// The restarted leader finds an established leader when it comes back,
	// and follows it.
	next := oneLeader(t, l, e, version)
	if next == leader {
		t.Errorf("leader %s still leads after its restart", leader)
	}
	if m := l.HostStatus(ctx, leader).Mode; m != "follower" {
		t.Errorf("old leader %s after its restart: mode %q, want follower", leader, m)
	}

	follower = "a1"
	if next == follower {
		follower = "a2"
	}
	if s, err := l.Stop(ctx, follower); err != nil || s.Running || s.Mode != "stopped" {
		t.Fatalf("stop %s: %+v %v", follower, s, err)
	}
	labtest.WaitServing(t, l, 30*time.Second)
	if got := oneLeader(t, l, e, version); got != next {
		t.Errorf("stopping follower %s moved the leader from %s to %s", follower, next, got)
	}
	if s, err := l.Start(ctx, e.Files(), 0, follower); err != nil || !s.Running || s.Action != "started" {
		t.Fatalf("start %s: %+v %v", follower, s, err)
	}
	labtest.WaitServing(t, l, 30*time.Second)
	if got := oneLeader(t, l, e, version); got != next {
		t.Errorf("starting follower %s moved the leader from %s to %s", follower, next, got)
	}

	// Stopping needs no runtime: the same lab opened for a version this
	// machine cannot run still lists its servers and brings them down, and
	// only starting fails.
	other, err := lab.Open(lab.Options{State: l.State(), Version: "3.99.0", Homes: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Restart(ctx, e.Files(), 0, follower); !isMissing(err) {
		t.Errorf("restart without a 3.99 runtime: %v, want a missing or version error", err)
	}
	st, err := other.Status(ctx)
	if err != nil || len(st) != 3 {
		t.Fatalf("status without a runtime: %+v %v", st, err)
	}
	for _, s := range st {
		if !s.Running || (s.Mode != "leader" && s.Mode != "follower") {
			t.Errorf("status without a runtime: %+v", s)
		}
	}
	down, err := other.Down(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pids := byHost(st)
	for _, s := range down {
		if s.Running || s.Action != "stopped" || alive(pids[s.Host].Pid) {
			t.Errorf("down without a runtime: %+v (pid %d alive %v)", s, pids[s.Host].Pid, alive(pids[s.Host].Pid))
		}
	}
}

func isMissing(err error) bool {
	var me *lab.MissingError
	var ve *lab.VersionError
	return errors.As(err, &me) || errors.As(err, &ve)
}

// oneLeader asks every running host of e for srvr, checks that each serves
// the version asked for, as leader or follower, and that exactly one leads;
// it returns the leader.
func oneLeader(t *testing.T, l *lab.Lab, e labtest.Ensemble, version string) string {
	t.Helper()
	var leaders []string
	for _, h := range e.Hosts {
		if !l.HostStatus(context.Background(), h.Name).Running {
			continue
		}
		addr := net.JoinHostPort(h.Address, strconv.Itoa(labtest.ClientPort))
		out, err := verify.Word(context.Background(), addr, "srvr", 2*time.Second)
		if err != nil {
			t.Fatalf("srvr on %s (%s): %v", h.Name, addr, err)
		}
		s, err := verify.ParseSrvr(out)
		if err != nil {
			t.Fatalf("srvr on %s: %v\n%s", h.Name, err, out)
		}
		// "3.4.6-1569965, built on ...", "3.8.0-debian, built on ...".
		if !strings.HasPrefix(s.Version, version+"-") {
			t.Errorf("%s serves version %q, want %s", h.Name, s.Version, version)
		}
		switch s.Mode {
		case "leader":
			leaders = append(leaders, h.Name)
		case "follower":
		default:
			t.Errorf("%s: mode %q", h.Name, s.Mode)
		}
	}
	if len(leaders) != 1 {
		t.Fatalf("leaders %v, want one", leaders)
	}
	return leaders[0]
}

// sameLine: equal major.minor.
func sameLine(a, b string) bool {
	cut := func(v string) string {
		f := strings.SplitN(v, ".", 3)
		if len(f) < 2 {
			return v
		}
		return f[0] + "." + f[1]
	}
	return cut(a) == cut(b)
}

// TestLabRunsRenderedFiles starts the renderer's own files for a spec of
// each version: the zoo.cfg of 3.4 (clientPort, plain server lines) and of
// 3.5+ (roles and client addresses on server lines, whitelist, static
// config) must each start on that version, with the membership conf shows
// where the version shows one.
func TestLabRunsRenderedFiles(t *testing.T) { eachVersion(t, runsRenderedFiles) }

func runsRenderedFiles(t *testing.T, version string) {
	spec := `name: "rendered"
version: "` + version + `"
ports: {client: 2181, quorum: 2555, election: 3555}
datacenters: {dc1: {leader: "preferred", priority: 1}}
hosts: {
	"r1": {address: "127.0.15.1", dc: "dc1", myid: 1}
	"r2": {address: "127.0.15.2", dc: "dc1", myid: 2}
	"r3": {address: "127.0.15.3", dc: "dc1", myid: 3}
}
settings: {tickTime: 200, initLimit: 10, syncLimit: 5, dataDir: "/var/lib/zookeeper"}
`
	files := labtest.RenderStage(t, spec, 0)
	l := labtest.NewLabVersion(t, version, nil)
	ctx := context.Background()
	if _, err := l.Up(ctx, files, 0); err != nil {
		t.Fatalf("lab up: %v", err)
	}
	labtest.WaitServing(t, l, 60*time.Second)
	for _, h := range []string{"r1", "r2", "r3"} {
		st := l.HostStatus(ctx, h)
		out, err := verify.Word(ctx, net.JoinHostPort(st.Address, strconv.Itoa(st.ClientPort)), "conf", 2*time.Second)
		if err != nil {
			t.Fatalf("conf on %s: %v", h, err)
		}
		conf, err := verify.ParseConf(out)
		if err != nil {
			t.Fatalf("conf on %s: %v\n%s", h, err, out)
		}
		if conf.ServerID != st.MyID {
			t.Errorf("%s: conf serverId %d, myid %d", h, conf.ServerID, st.MyID)
		}
		dynamic := !strings.HasPrefix(version, "3.4.")
		if conf.HasMembership != dynamic {
			t.Errorf("%s on %s: conf shows membership %v, want %v", h, version, conf.HasMembership, dynamic)
		}
		if !dynamic {
			continue
		}
		var got []string
		for _, m := range conf.Members {
			got = append(got, m.String())
		}
		want := "server.1=127.0.15.1:2555:3555:participant;127.0.15.1:2181 server.2=127.0.15.2:2555:3555:participant;127.0.15.2:2181 server.3=127.0.15.3:2555:3555:participant;127.0.15.3:2181"
		if strings.Join(got, " ") != want {
			t.Errorf("%s: members %v, want %s", h, got, want)
		}
	}
}
