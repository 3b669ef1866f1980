package cli

import (
	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/schema"
)

func init() {
	register(&Command{
		Name:    "help",
		Usage:   "help [command|schema|exit-codes]",
		Example: "zkstage help render\nzkstage help schema\nzkstage help exit-codes",
		Short:   "show help for a command, the cluster schema or the exit codes",
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if len(env.Args) == 0 {
				printCommands(env.Stdout)
				return nil
			}
			if env.Args[0] == "schema" {
				_, err := env.Stdout.Write(schema.Source())
				return err
			}
			if env.Args[0] == "exit-codes" {
				printExitCodes(env.Stdout)
				return nil
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
