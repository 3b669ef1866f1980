package cli

import (
	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/report"
)

func init() {
	var output *string
	register(&Command{
		Name:    "plan",
		Usage:   "plan DIR [-o text|json|markdown]",
		Example: "zkstage plan clusters/reference\nzkstage plan clusters/reference -o markdown",
		Short:   "plan the stages from today's ensemble to the spec",
		Long: `Plans every stage from the ensemble as it is today (stage 0) to the target
of DIR/cluster.cue: renames, growth and shrink steps, each simulated for
safety (never two leaders) and availability (quorum margin), and the
leader placement of the final configuration. The spec's warnings go to
stderr; the plan's are part of the report (and also on stderr with -o json
or markdown).`,
		Flags: func(fs *pflag.FlagSet) { output = outputFlag(fs, "text", "json", "markdown") },
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json", "markdown"); err != nil {
				return err
			}
			dir, err := oneDir(env, "plan")
			if err != nil {
				return err
			}
			_, p, warns, err := loadPlan(env, dir)
			if err != nil {
				return err
			}
			// The text report lists the plan's warnings itself: on stderr too
			// they would show twice on one terminal.
			if *output != "text" {
				for _, w := range p.Warnings {
					env.Stderr.Write([]byte("warning: " + w + "\n"))
				}
			}
			switch *output {
			case "json":
				all := append([]string{}, p.Warnings...)
				for _, w := range warns {
					all = append(all, w.String())
				}
				out := *p
				out.Warnings = all
				if out.Warnings == nil {
					out.Warnings = []string{}
				}
				return writeJSON(env.Stdout, &out)
			case "markdown":
				return report.PlanMarkdown(env.Stdout, p)
			}
			return report.PlanText(env.Stdout, p)
		},
	})
}
