package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zkstage/zkstage/zoocfg"
)

// RunInstalled starts (restart: restarts) host from the zoo.cfg and myid
// that config management installed in dir, as the host's service manager
// would.
//
// A static zoo.cfg is read and run the lab's usual way, from a copy with
// the lab's overrides. A zoo.cfg with a dynamicConfigFile (dynamic
// reconfiguration) is run in place: ZooKeeper rewrites that zoo.cfg and
// writes its zoo.cfg.dynamic.<version> files beside the dynamic file, so
// what config management does to the folder afterwards (never overwrite,
// edit settings in place) is tested on ZooKeeper's own files. The lab
// then edits only its own keys in that zoo.cfg (data folders, AdminServer,
// whitelist, tickTime, the per-host overrides) and points a
// dynamicConfigFile that names another folder (the rendered
// settings.configDir) at the same file name in dir. Config management
// under test must leave those keys alone (examples/ansible/lab.yml).
func (l *Lab) RunInstalled(ctx context.Context, dir string, stage int, host string, restart bool) (HostStatus, error) {
	conf := filepath.Join(dir, "zoo.cfg")
	cfg, err := os.ReadFile(conf)
	if err != nil {
		return HostStatus{Host: host}, err
	}
	myid, err := os.ReadFile(filepath.Join(dir, "myid"))
	if err != nil {
		return HostStatus{Host: host}, err
	}
	parsed, err := zoocfg.Parse(conf, cfg)
	if err != nil {
		return HostStatus{Host: host}, err
	}
	pointer, dynamic := parsed.Get("dynamicConfigFile")
	if !dynamic {
		files := []File{{Path: host + "/zoo.cfg", Data: cfg}, {Path: host + "/myid", Data: myid}}
		if restart {
			return l.Restart(ctx, files, stage, host)
		}
		return l.Start(ctx, files, stage, host)
	}
	return l.runInPlace(ctx, conf, parsed, pointer, cfg, myid, stage, host, restart)
}

func (l *Lab) runInPlace(ctx context.Context, conf string, parsed *zoocfg.Config, pointer zoocfg.Entry, cfg, myid []byte, stage int, host string, restart bool) (HostStatus, error) {
	rt, err := l.runtime()
	if err != nil {
		return HostStatus{Host: host}, err
	}
	if err := os.MkdirAll(l.dataPath(host), 0o755); err != nil {
		return HostStatus{Host: host}, err
	}
	dir := filepath.Dir(conf)
	dynPath := pointer.Value
	if filepath.Dir(dynPath) != dir {
		dynPath = filepath.Join(dir, filepath.Base(dynPath))
	}
	dyn, err := os.ReadFile(dynPath)
	if err != nil {
		return HostStatus{Host: host}, fmt.Errorf("%s: dynamicConfigFile: %w", pointer.Pos(), err)
	}
	hc, err := parseHostFiles(host, cfg, myid, dyn)
	if err != nil {
		return HostStatus{Host: host}, err
	}
	// Run in place, the lab cannot rebind a client part without an
	// address (labDynamic): every server on this machine would then
	// listen on 0.0.0.0 and the second would fail to bind.
	if !bytes.Equal(bytes.TrimRight(labDynamic(hc), "\n"), bytes.TrimRight(dyn, "\n")) {
		return HostStatus{Host: host}, fmt.Errorf("%s: a server line's client part gives no address: the lab runs a dynamic file in place only when every server line binds its own (as zkstage renders them)", dynPath)
	}
	version := rt.Version
	if version == "" {
		version = l.opts.Version
	}
	set := labOverrides(hc, l.dataPath(host), l.opts.TickTime, version, l.opts.Overrides[host])
	set["dynamicConfigFile"] = dynPath
	var edits []zoocfg.Edit
	for _, k := range sortedKeys(set) {
		e, ok := parsed.Get(k)
		if !ok || e.Value != set[k] {
			edits = append(edits, zoocfg.Edit{Key: k, Old: e.Value, New: set[k], Added: !ok})
		}
	}
	rec, _ := l.readRecord(host)
	action, kept, err := l.stopFor(ctx, host, hc, rec, restart, func(r *record) bool { return r.Config == conf && len(edits) == 0 })
	if kept != nil {
		return *kept, err
	}
	if len(edits) > 0 {
		if err := os.WriteFile(conf, zoocfg.Apply(cfg, edits), 0o644); err != nil {
			return HostStatus{Host: host}, err
		}
	}
	return l.launch(ctx, rt, &record{Host: host, Address: hc.Address, ClientPort: hc.ClientPort, MyID: hc.MyID, Stage: stage, Config: conf}, action)
}
