package adopt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/zkstage/zkstage/internal/fileio"
	"github.com/zkstage/zkstage/zoocfg"
)

// ErrVersionRequired: zoo.cfg files do not tell the ZooKeeper version.
var ErrVersionRequired = errors.New("--version is required when importing files: zoo.cfg does not tell the ZooKeeper version (3.5+ syntax only proves >= 3.5)")

// MyIDName is the name of a myid file; such a file is tied to the zoo.cfg
// passed from (or found in) the same directory.
const MyIDName = "myid"

// ImportFiles reads zoo.cfg files, the dynamic config files they name and
// myid files, and builds the spec. A file named myid is tied to the zoo.cfg
// from the same directory; a myid next to a zoo.cfg is read even when not
// passed. The error is a zoocfg.Errors list (every problem, by file and
// line) or ErrVersionRequired or a plain error.
func ImportFiles(paths []string, opts Options) (*Result, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.Version == "" {
		return nil, ErrVersionRequired
	}
	version, err := parseVersion(opts.Version)
	if err != nil {
		return nil, err
	}
	var cfgs, myids []string
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[filepath.Clean(p)] {
			continue
		}
		seen[filepath.Clean(p)] = true
		if filepath.Base(p) == MyIDName {
			myids = append(myids, p)
		} else {
			cfgs = append(cfgs, p)
		}
	}
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("no zoo.cfg among the files (only myid files)")
	}
	b := &builder{opts: opts, version: version}
	byDir := map[string][]*view{}
	for _, p := range cfgs {
		v, errs := readView(p)
		b.errs = append(b.errs, errs...)
		if v == nil {
			continue
		}
		b.views = append(b.views, v)
		byDir[dirOf(p)] = append(byDir[dirOf(p)], v)
	}
	explicit := map[string]bool{}
	for _, m := range myids {
		d := dirOf(m)
		explicit[d] = true
		vs := byDir[d]
		switch {
		case len(vs) == 0:
			b.fail(m, 0, "", "no zoo.cfg from the same directory among the files: cannot tell which server this myid belongs to")
			continue
		case len(vs) > 1:
			b.fail(m, 0, "", "several zoo.cfg files from this directory (%s, %s): cannot tell which one this myid belongs to", vs[0].origin, vs[1].origin)
			continue
		}
		b.readMyID(vs[0], m)
	}
	// A myid sitting next to a lone zoo.cfg belongs to it.
	for d, vs := range byDir {
		if explicit[d] || len(vs) != 1 {
			continue
		}
		m := filepath.Join(d, MyIDName)
		if _, err := os.Stat(m); err == nil {
			b.readMyID(vs[0], m)
		}
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	b.checkSyntax()
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	return b.build()
}

func dirOf(p string) string { return filepath.Clean(filepath.Dir(p)) }

// readView parses one zoo.cfg and the dynamic config file it names.
func readView(path string) (*view, zoocfg.Errors) {
	c, err := zoocfg.ParseFile(path)
	if err != nil {
		return nil, asErrors(err)
	}
	if len(c.Warnings) > 0 {
		// Duplicate keys: ZooKeeper takes the last one silently, an
		// import must not guess which one the operator meant.
		var errs zoocfg.Errors
		for _, w := range c.Warnings {
			errs = append(errs, &zoocfg.Error{File: w.File, Line: w.Line, Key: w.Key, Msg: w.Msg + "; keep one before importing"})
		}
		return nil, errs
	}
	v := &view{origin: path, serversFrom: path, servers: c.Servers, entries: c.Entries}
	e, ok := c.Get(zoocfg.KeyDynamicConfigFile)
	if !ok {
		return v, nil
	}
	dyn, tried := findDynamic(path, e.Value)
	if dyn == "" {
		return nil, zoocfg.Errors{{File: e.File, Line: e.Line, Key: e.Key,
			Msg: fmt.Sprintf("dynamic config file not found (looked for %s)", strings.Join(tried, ", "))}}
	}
	d, err := zoocfg.ParseDynamicFile(dyn)
	if err != nil {
		return nil, asErrors(err)
	}
	v.serversFrom, v.servers = dyn, d.Servers
	return v, nil
}

// findDynamic resolves dynamicConfigFile against the zoo.cfg's directory
// only: an import works on copies of a host's files, so an absolute path
// (or one that climbs out with "..") names a file of the host, not of this
// machine; its base name is looked up next to the zoo.cfg.
func findDynamic(cfg, name string) (string, []string) {
	dir := filepath.Dir(cfg)
	var cands []string
	if filepath.IsLocal(name) {
		cands = append(cands, filepath.Join(dir, name))
	}
	if b := filepath.Join(dir, filepath.Base(name)); len(cands) == 0 || b != cands[0] {
		cands = append(cands, b)
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, cands
		}
	}
	return "", cands
}

// maxMyIDBytes bounds a myid file: a number and a line break.
const maxMyIDBytes = 64

func (b *builder) readMyID(v *view, path string) {
	data, err := fileio.ReadRegular(path, maxMyIDBytes)
	if err != nil {
		b.fail(path, 0, "", "%v", unwrapPathError(err))
		return
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		b.fail(path, 1, "", "empty file: want the server id")
		return
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.ContainsAny(s, "+- \t\r\n") {
		b.fail(path, 1, "", "%q is not a server id", s)
		return
	}
	v.myid, v.myidFile, v.myidLine = &n, path, 1
}

// checkSyntax refuses 3.5+ syntax with a 3.4 version: ZooKeeper 3.4 would
// not start with these files.
func (b *builder) checkSyntax() {
	if b.version.Dynamic() {
		return
	}
	for _, v := range b.views {
		for _, s := range v.servers {
			if s.ClientPort != 0 {
				b.fail(s.File, s.Line, s.Key(), "';' client port is ZooKeeper 3.5+ syntax, but --version is %s", b.version)
			}
		}
		if e, ok := v.get(zoocfg.KeyDynamicConfigFile); ok {
			b.fail(e.File, e.Line, e.Key, "dynamic config files are ZooKeeper 3.5+, but --version is %s", b.version)
		}
	}
}

func asErrors(err error) zoocfg.Errors {
	var l zoocfg.Errors
	if errors.As(err, &l) {
		return l
	}
	return zoocfg.Errors{{Msg: err.Error()}}
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
