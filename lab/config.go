package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/zkstage/zkstage/zoocfg"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/zkstage/zkstage/schema"
)

// hostConfig is what the lab needs from a host's rendered files.
type hostConfig struct {
	MyID       int
	Address    string // the host's own server line address
	ClientPort int
	// HasClientPort: the config has a clientPort line (3.5+ configs may give
	// the client port only on the server lines).
	HasClientPort bool
	lines         []string
	// dynLines are the bootstrap dynamic file's lines (reconfiguration);
	// nil for a static config.
	dynLines []string
}

// dynamicFile is the rendered bootstrap dynamic config file (render.DynamicFile).
const dynamicFile = "zoo.cfg.dynamic"

// labDynamic is the dynamic file with every server line's client part bound
// to the server's own address, as labConfig does for static server lines.
func labDynamic(hc *hostConfig) []byte {
	var out []string
	for _, line := range hc.dynLines {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && strings.HasPrefix(strings.TrimSpace(k), "server.") {
			line = strings.TrimSpace(k) + "=" + bindClient(strings.TrimSpace(v))
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// parseHostFiles reads a rendered zoo.cfg and myid and refuses any address
// outside 127.0.0.0/8: the lab only ever runs on loopback.
func parseHostFiles(host string, cfg, myid, dynamic []byte) (*hostConfig, error) {
	id, err := strconv.Atoi(strings.TrimSpace(string(myid)))
	if err != nil {
		return nil, fmt.Errorf("%s/myid: %q is not a server id", host, strings.TrimSpace(string(myid)))
	}
	hc := &hostConfig{MyID: id}
	if err := hc.scan(host, "zoo.cfg", cfg, &hc.lines); err != nil {
		return nil, err
	}
	if dynamic != nil {
		hc.dynLines = []string{}
		if err := hc.scan(host, dynamicFile, dynamic, &hc.dynLines); err != nil {
			return nil, err
		}
	}
	if hc.Address == "" {
		return nil, fmt.Errorf("%s/zoo.cfg: no server.%d line for the host's own id (myid %d): ZooKeeper would refuse to start", host, id, id)
	}
	if hc.ClientPort == 0 {
		return nil, fmt.Errorf("%s/zoo.cfg: no clientPort", host)
	}
	return hc, nil
}

// scan reads one file's lines into lines, taking the client port and the
// host's own address from it.
func (hc *hostConfig) scan(host, file string, data []byte, lines *[]string) error {
	id := hc.MyID
	var err error
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		*lines = append(*lines, line)
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "clientPort":
			hc.HasClientPort = true
			if hc.ClientPort, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("%s/%s:%d: clientPort: %q is not a port", host, file, n, v)
			}
		case strings.HasPrefix(k, "server."):
			// zoocfg's parser, the one every package uses: it reads the
			// bracketed IPv6 addresses the renderer writes.
			srv, err := zoocfg.ParseServerLine(k, v)
			if err != nil {
				return fmt.Errorf("%s/%s:%d: %s: %v", host, file, n, k, err)
			}
			if err := loopback(srv.Address); err != nil {
				return fmt.Errorf("%s/%s:%d: %s: %v", host, file, n, k, err)
			}
			if srv.ID == id {
				hc.Address = srv.Address
			}
			if srv.ClientPort != 0 && hc.ClientPort == 0 {
				hc.ClientPort = srv.ClientPort
			}
		}
	}
	return nil
}

func loopback(addr string) error {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() == nil || ip.To4()[0] != 127 {
		return fmt.Errorf("address %q is outside 127.0.0.0/8: the lab runs on loopback only", addr)
	}
	return nil
}

// labConfig applies the lab-only overrides on top of the rendered zoo.cfg:
// data under the state dir, the client port bound to the host's own loopback
// address (every server line's client part too: 3.5+ refuses a
// clientPortAddress that differs from its own server line), no AdminServer
// (several servers share one machine), every four-letter word, the optional
// tickTime, then the caller's per-host overrides. version is the ZooKeeper
// that runs it ("" when unknown): a key the version does not know is not
// written, since 3.4 turns every unknown key into a system property silently
// and the effective config should show only what the server reads.
func labConfig(hc *hostConfig, dataDir string, tickTime int, version string, extra map[string]string) []byte {
	set := labOverrides(hc, dataDir, tickTime, version, extra)
	var out []string
	done := map[string]bool{}
	for _, line := range hc.lines {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		k = strings.TrimSpace(k)
		if !ok || strings.HasPrefix(k, "#") {
			out = append(out, line)
			continue
		}
		if nv, ok := set[k]; ok {
			if !done[k] {
				out = append(out, k+"="+nv)
				done[k] = true
			}
			continue
		}
		if strings.HasPrefix(k, "server.") {
			line = k + "=" + bindClient(strings.TrimSpace(v))
		}
		out = append(out, line)
	}
	var rest []string
	for k := range set {
		if !done[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	if len(rest) > 0 {
		out = append(out, "# zkstage lab overrides")
	}
	for _, k := range rest {
		out = append(out, k+"="+set[k])
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// labOverrides are the keys the lab sets on every server it runs (see
// labConfig), the caller's extra last.
func labOverrides(hc *hostConfig, dataDir string, tickTime int, version string, extra map[string]string) map[string]string {
	set := map[string]string{
		"dataDir":    dataDir,
		"dataLogDir": dataDir,
	}
	v, err := schema.ParseVersion(version)
	unknown := err != nil // write every key
	if unknown || v.Dynamic() {
		// The AdminServer (Jetty, port 8080 by default) exists from 3.5.
		set["admin.enableServer"] = "false"
	}
	if unknown || v.AtLeast(3, 4, 10) {
		// The whitelist exists from 3.4.10 (all words on by default there;
		// only srvr from 3.5.3).
		set["4lw.commands.whitelist"] = "*"
	}
	if hc.HasClientPort {
		// ZooKeeper refuses clientPortAddress without clientPort.
		set["clientPortAddress"] = hc.Address
	}
	if tickTime > 0 {
		set["tickTime"] = strconv.Itoa(tickTime)
	}
	for k, v := range extra {
		set[k] = v
	}
	return set
}

// bindClient turns "a:q:e[:role];port" into "a:q:e[:role];a:port".
func bindClient(v string) string {
	srv, client, ok := strings.Cut(v, ";")
	if !ok {
		return v
	}
	if host, p, err := net.SplitHostPort(client); err == nil {
		if host != "" && host != "0.0.0.0" {
			return v
		}
		client = p
	}
	addr, _, _ := strings.Cut(srv, ":")
	return srv + ";" + addr + ":" + client
}
