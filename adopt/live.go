package adopt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkstage/zkstage/verify"
	"github.com/zkstage/zkstage/zoocfg"
)

// ConfigZnode holds the membership on 3.5+ (readable by anyone).
const ConfigZnode = "/zookeeper/config"

// Error34 is returned for a 3.4 ensemble: its membership cannot be read
// over the wire (conf has no membership section, there is no
// /zookeeper/config), so the files are needed.
type Error34 struct {
	Addr    string
	Version string
}

func (e *Error34) Error() string {
	return fmt.Sprintf("%s runs ZooKeeper %s, which does not report its membership over the wire (no membership in conf, no %s): import its zoo.cfg files instead: zkstage import --version %s zoo.cfg...", e.Addr, e.Version, ConfigZnode, e.Version)
}

var versionPrefix = regexp.MustCompile(`^(\d+\.\d+\.\d+)`)

// ImportLive reads the membership of a running 3.5+ ensemble from conf on
// each address (falling back on /zookeeper/config where conf is not
// whitelisted) and the version from srvr, and builds the spec. Every address
// must answer: a server that does not cannot be compared with the others.
func ImportLive(ctx context.Context, addrs []string, opts Options, timeout time.Duration) (*Result, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no address to import from")
	}
	var errs []string
	versions := map[string]string{}
	var first string
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("--live %q: want HOST:PORT (the client port)", a)
		}
		out, err := verify.Word(ctx, a, "srvr", timeout)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		s, err := verify.ParseSrvr(out)
		if err != nil {
			errs = append(errs, fmt.Sprintf("srvr on %s: %v", a, err))
			continue
		}
		m := versionPrefix.FindStringSubmatch(s.Version)
		if m == nil {
			errs = append(errs, fmt.Sprintf("srvr on %s: cannot read the version in %q", a, s.Version))
			continue
		}
		versions[a] = m[1]
		if first == "" {
			first = a
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	for _, a := range addrs {
		if versions[a] != versions[first] {
			return nil, fmt.Errorf("the servers run different versions (%s: %s, %s: %s): finish the upgrade before importing", first, versions[first], a, versions[a])
		}
	}
	if opts.Version != "" && opts.Version != versions[first] {
		return nil, fmt.Errorf("--version %s, but %s runs ZooKeeper %s", opts.Version, first, versions[first])
	}
	version, err := parseVersion(versions[first])
	if err != nil {
		return nil, fmt.Errorf("%s runs an unsupported version: %v", first, err)
	}
	if !version.Dynamic() {
		return nil, &Error34{Addr: first, Version: version.String()}
	}
	b := &builder{opts: opts, version: version}
	for _, a := range addrs {
		v, err := liveView(ctx, a, timeout)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		b.views = append(b.views, v)
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	if len(b.views) > 0 && !b.views[0].hasSettings() {
		b.warn("", 0, "", "conf is not whitelisted: settings (tickTime, initLimit, syncLimit, dataDir) are zkstage's defaults; check them")
	}
	b.warn("", 0, "", "only tickTime, initLimit, syncLimit, dataDir and dataLogDir are visible over the wire: add other zoo.cfg settings to settings.extra, and check settings.adminServer (left disabled)")
	return b.build()
}

// liveView asks one server for its view of the ensemble.
func liveView(ctx context.Context, addr string, timeout time.Duration) (*view, error) {
	out, err := verify.Word(ctx, addr, "conf", timeout)
	var we *verify.WordError
	if errors.As(err, &we) && we.Kind == verify.ErrNotWhitelisted {
		return znodeView(addr, timeout)
	}
	if err != nil {
		return nil, err
	}
	return parseConfView("conf on "+addr, out)
}

// liveSettings are the conf keys carried into the spec.
var liveSettings = map[string]bool{
	zoocfg.KeyTickTime: true, zoocfg.KeyInitLimit: true, zoocfg.KeySyncLimit: true,
	zoocfg.KeyDataDir: true, zoocfg.KeyDataLogDir: true, zoocfg.KeyClientPort: true,
}

// parseConfView reads conf output: settings, "membership:", server lines,
// "version=". 3.4 has no membership section.
func parseConfView(origin, out string) (*view, error) {
	v := &view{origin: origin, serversFrom: origin, live: true}
	var errs zoocfg.Errors
	membership := false
	for i, line := range strings.Split(out, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.TrimSpace(strings.TrimSuffix(line, ":")) == "membership" {
			membership = true
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok {
			errs = append(errs, &zoocfg.Error{File: origin, Line: n, Msg: fmt.Sprintf("unexpected line %q", line)})
			continue
		}
		switch {
		case strings.HasPrefix(k, "server."):
			s, err := zoocfg.ParseServerLine(k, val)
			if err != nil {
				errs = append(errs, &zoocfg.Error{File: origin, Line: n, Key: k, Msg: err.Error()})
				continue
			}
			s.File, s.Line = origin, n
			v.servers = append(v.servers, s)
		case k == "serverId":
			id, err := strconv.Atoi(val)
			if err != nil {
				errs = append(errs, &zoocfg.Error{File: origin, Line: n, Key: k, Msg: fmt.Sprintf("%q is not a server id", val)})
				continue
			}
			v.myid, v.myidFile, v.myidLine = &id, origin, n
		case liveSettings[k]:
			if k == zoocfg.KeyDataDir || k == zoocfg.KeyDataLogDir {
				// conf shows the snapshot/log directory, dataDir + /version-2.
				val = strings.TrimSuffix(strings.TrimSuffix(val, "/"), "/version-2")
			}
			v.entries = append(v.entries, zoocfg.Entry{Key: k, Value: val, File: origin, Line: n})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if !membership {
		return nil, fmt.Errorf("%s: no membership section (ZooKeeper 3.4?): import the zoo.cfg files instead", origin)
	}
	return v, nil
}

// znodeView reads /zookeeper/config through a client session, for servers
// whose whitelist lacks conf. Only the membership is known then; the
// server at addr is the one whose address and client port match.
func znodeView(addr string, timeout time.Duration) (*view, error) {
	data, err := ReadConfigZnode(addr, timeout)
	if err != nil {
		return nil, err
	}
	origin := ConfigZnode + " on " + addr
	c, err := zoocfg.ParseDynamic(origin, data)
	if err != nil {
		return nil, err
	}
	v := &view{origin: origin, serversFrom: origin, servers: c.Servers, live: true}
	host, port, _ := net.SplitHostPort(addr)
	for _, s := range c.Servers {
		if s.Address == host {
			id := s.ID
			v.myid, v.myidFile = &id, origin
			if s.ClientPort == 0 {
				v.entries = append(v.entries, zoocfg.Entry{Key: zoocfg.KeyClientPort, Value: port, File: origin})
			}
		}
	}
	return v, nil
}

// ReadConfigZnode returns the data of /zookeeper/config on one server.
func ReadConfigZnode(addr string, timeout time.Duration) ([]byte, error) {
	conn, events, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(quiet{}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %v", ConfigZnode, addr, err)
	}
	defer conn.Close()
	deadline := time.After(timeout)
	for connected := false; !connected; {
		select {
		case ev := <-events:
			connected = ev.State == zk.StateHasSession
		case <-deadline:
			return nil, fmt.Errorf("%s on %s: no session within %s", ConfigZnode, addr, timeout)
		}
	}
	data, _, err := conn.Get(ConfigZnode)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %v", ConfigZnode, addr, err)
	}
	return data, nil
}

// quiet keeps go-zookeeper from printing: library packages never print.
type quiet struct{}

func (quiet) Printf(string, ...interface{}) {}

func (v *view) hasSettings() bool {
	_, ok := v.get(zoocfg.KeyTickTime)
	return ok
}
