package cli

import (
	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/schema"
)

func init() {
	register(&Command{
		Name:    "help",
		Usage:   "help [command|schema]",
		Example: "zkstage help render\nzkstage help schema",
		Short:   "show help for a command, or the cluster schema",
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if len(env.Args) == 0 {
				printCommands(env.Stdout)
				return nil
			}
			if env.Args[0] == "schema" {
				_, err := env.Stdout.Write(schema.Source())
				return err
			}
			c, ok := commands[env.Args[0]]
			if !ok {
				return usageErr("unknown command %q", env.Args[0])
			}
			fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
			if c.Flags != nil {
				c.Flags(fs)
			}
			printUsage(env.Stdout, c, fs)
			return nil
		},
	})
}
