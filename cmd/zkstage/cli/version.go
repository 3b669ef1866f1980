package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = ""

func init() {
	register(&Command{
		Name:    "version",
		Usage:   "version",
		Example: "zkstage version",
		Short:   "print zkstage's version",
		Run: func(env *Env, _ *pflag.FlagSet) error {
			v := Version
			if v == "" {
				v = "devel"
				if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
					v = bi.Main.Version
				}
			}
			fmt.Fprintf(env.Stdout, "zkstage %s\n", v)
			return nil
		},
	})
}
