package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/schema"
)

func init() {
	register(&Command{
		Name:    "vet",
		Usage:   "vet DIR...",
		Example: "zkstage vet clusters/reference clusters/lab",
		Short:   "validate cluster specs",
		Long: `Loads DIR/cluster.cue for each DIR, unifies it with the embedded schema
and runs zkstage's checks. Errors and warnings go to stderr as
file:line:col: field: message. Exit 0 when every spec is valid (warnings
allowed), 2 when one is not.`,
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if len(env.Args) == 0 {
				return usageErr("vet needs at least one cluster directory")
			}
			bad := 0
			for _, dir := range env.Args {
				_, warns, err := schema.Load(dir)
				printWarnings(env, warns)
				if err != nil {
					printError(env.Stderr, err)
					bad++
				}
			}
			if bad > 0 {
				return &exitError{code: ExitUsage}
			}
			return nil
		},
	})
}

func printWarnings(env *Env, warns []schema.Warning) {
	for _, w := range warns {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
}
