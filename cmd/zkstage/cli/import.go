package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/adopt"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

func init() {
	var name, version, out, live *string
	var dcs, ignore *[]string
	var force *bool
	var timeout *time.Duration
	var output *string
	register(&Command{
		Name:  "import",
		Usage: "import [--name NAME] --version V [--dc CIDR=NAME]... [--ignore KEY]... [--out DIR [--force]] [-o cue|json] FILE...\n       zkstage import --live HOST:PORT[,HOST:PORT...] [--timeout D] [--name NAME] [--dc CIDR=NAME]... [--ignore KEY]... [--out DIR [--force]] [-o cue|json]",
		Short: "write a cluster spec for an ensemble that already runs",
		Example: `zkstage import --version 3.4.6 --dc 192.168.1.0/24=dc1 --dc 192.168.2.0/24=dc2 --out clusters/prod hosts/*/zoo.cfg hosts/*/myid
zkstage import --live 10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181 --name prod -o json`,
		Long: `Reads the zoo.cfg files of a running ensemble (with the dynamic config
file a zoo.cfg names, looked up next to it, and myid files: a file named
myid is tied to the zoo.cfg from the same directory, and a myid lying next
to a zoo.cfg is read even when not passed) and writes a cluster.cue that
zkstage vet accepts: one host per server.N line, a member today with its
myid, role and ports. --version is required: zoo.cfg does not tell it.

With --live, reads a running 3.5+ ensemble instead: membership from conf
(or /zookeeper/config when conf is not whitelisted) on every address, the
version from srvr. A 3.4 ensemble cannot report its membership: import its
files.

Hosts are named after their address (zk-192-168-1-100) or the first label
of their host name. Without --dc every host is in datacenter dc1, the
preferred leader site; --dc CIDR=NAME (also ADDRESS=NAME or a host-name
pattern such as 'zk*.east.example.com=east') puts the hosts it covers in
NAME, first match wins; the first --dc names the preferred leader site
(priority 1), the others may lead in flag order (priority 2, 3, ...), so
the plan keeps the leader where the flags say. The cluster ports are the most common ones; hosts
that differ get a ports override. tickTime, initLimit, syncLimit, dataDir,
dataLogDir and the AdminServer settings map to settings (on 3.4,
clientPortAddress set to each server's own address maps to clientBind
"address"); keys zkstage
renders itself (server.N, clientPort, clientPortAddress, peerType,
dynamicConfigFile, reconfigEnabled, standaloneEnabled,
4lw.commands.whitelist) are not copied (a warning says when their value
differs from what zkstage renders); any other key goes to settings.extra.

When the sources disagree about membership or settings, or a file holds
a key twice, a stray line (a key without a value) or binary data, every
problem is listed by file and line and nothing is written (exit 2). Only
regular files are read (a named pipe is refused), and a dynamicConfigFile
is looked up next to its zoo.cfg, never at its path on this machine.
--ignore KEY
(e.g. dataDir, where each server has its own) leaves a setting out of the
comparison and out of the spec, which then keeps zkstage's default. The spec goes
to stdout, or to DIR/cluster.cue with --out (never over an existing file
without --force). --name defaults to DIR's name when it is a valid cluster
name, else "imported".`,
		Flags: func(fs *pflag.FlagSet) {
			name = fs.String("name", "", "cluster name (default: the --out folder's name, else \"imported\")")
			version = fs.String("version", "", "ZooKeeper version of the ensemble, e.g. 3.4.6 (required for files)")
			dcs = fs.StringArray("dc", nil, "CIDR=NAME: hosts in CIDR belong to datacenter NAME (repeatable)")
			ignore = fs.StringArray("ignore", nil, "setting KEY that may differ between servers: not compared, not carried (repeatable)")
			out = fs.String("out", "", "write DIR/cluster.cue instead of stdout")
			force = fs.Bool("force", false, "overwrite an existing DIR/cluster.cue")
			live = fs.String("live", "", "HOST:PORT[,HOST:PORT...] of a running 3.5+ ensemble")
			timeout = fs.Duration("timeout", 5*time.Second, "per-request timeout for --live")
			output = outputFlag(fs, "cue", "json")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "cue", "json"); err != nil {
				return err
			}
			opts := adopt.Options{Name: *name, Version: *version, Ignore: *ignore}
			if opts.Name == "" && *out != "" {
				if base := filepath.Base(filepath.Clean(*out)); clusterNameRE.MatchString(base) {
					opts.Name = base
				}
			}
			for _, d := range *dcs {
				r, err := adopt.ParseDC(d)
				if err != nil {
					return usageErr("%v", err)
				}
				opts.DCs = append(opts.DCs, r)
			}
			var res *adopt.Result
			var err error
			switch {
			case *live != "" && len(env.Args) > 0:
				return usageErr("import takes either --live or files, not both")
			case *live != "":
				res, err = adopt.ImportLive(context.Background(), splitList(*live), opts, *timeout)
			case len(env.Args) == 0:
				return usageErr("import needs zoo.cfg files or --live HOST:PORT")
			case *version == "":
				return usageErr("%v", adopt.ErrVersionRequired)
			default:
				res, err = adopt.ImportFiles(env.Args, opts)
			}
			if err != nil {
				return importError(env, err)
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(env.Stderr, "warning: %s\n", w)
			}
			data := res.CUE
			if *output == "json" {
				return writeSpecJSON(env.Stdout, res.Spec)
			}
			if *out == "" {
				_, err := env.Stdout.Write(data)
				return err
			}
			file := schema.SpecFile(*out)
			if err := writeNew(file, data, *force); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "wrote %s: %d hosts\n", file, len(res.Spec.Hosts))
			return nil
		},
	})
}

var clusterNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// importError prints positioned errors one per line; every import error is
// an input error (exit 2).
func importError(env *Env, err error) error {
	var list zoocfg.Errors
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintf(env.Stderr, "%s\n", e)
		}
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("%d problem(s): nothing written", len(list))}
	}
	return usageErr("%v", err)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// writeNew writes file through a temporary file and a rename, refusing to
// replace an existing file unless force is set.
func writeNew(file string, data []byte, force bool) error {
	if _, err := os.Stat(file); err == nil && !force {
		return usageErr("%s exists: use --force to overwrite it", file)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return usageErr("%v", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".cluster.cue.*")
	if err != nil {
		return usageErr("%v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
