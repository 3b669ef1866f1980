package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/render"
)

func init() {
	var out, check *string
	var stage *int
	var output *string
	register(&Command{
		Name:  "render",
		Usage: "render DIR (--out OUT | --check OUT) [--stage N] [-o text|json]",
		Short: "write (or check) zoo.cfg and myid of every stage",
		Long: `Writes OUT/NN-<stage>/<host>/zoo.cfg and myid for every host live at the
end of each stage (NN = 00 for the ensemble as it is today), and
OUT/NN-<stage>/stage.json, the stage manifest. Files are written to a
temporary folder first and swapped in, so an error never leaves partial
files. With --check, nothing is written: the files under OUT that differ
from what the spec compiles to are listed on stdout and the exit code is 1.`,
		Flags: func(fs *pflag.FlagSet) {
			out = fs.String("out", "", "folder to write the stages into")
			check = fs.String("check", "", "compare the stages under this folder instead of writing")
			stage = fs.Int("stage", -1, "only this stage (default: every stage)")
			output = outputFlag(fs, "text", "json")
		},
		Run: func(env *Env, _ *pflag.FlagSet) error {
			if err := checkFormat(*output, "text", "json"); err != nil {
				return err
			}
			dir, err := oneDir(env, "render")
			if err != nil {
				return err
			}
			if (*out == "") == (*check == "") {
				return usageErr("render needs exactly one of --out OUT or --check OUT")
			}
			c, p, _, err := loadPlan(env, dir)
			if err != nil {
				return err
			}
			if *stage >= len(p.Stages) {
				return usageErr("--stage %d: the plan has stages 0..%d", *stage, len(p.Stages)-1)
			}
			tree, err := render.Render(c, p, *stage)
			if err != nil {
				return err
			}
			if *check != "" {
				diffs, err := render.Check(*check, tree, *stage < 0)
				if err != nil {
					return err
				}
				if *output == "json" {
					if diffs == nil {
						diffs = []render.Diff{}
					}
					if err := writeJSON(env.Stdout, renderCheckOutput{OK: len(diffs) == 0, Diffs: diffs}); err != nil {
						return err
					}
				} else {
					for _, d := range diffs {
						fmt.Fprintf(env.Stdout, "%s\t%s\n", d.Status, d.Path)
					}
				}
				if len(diffs) > 0 {
					return checkFailed("%d file(s) under %s differ from what %s compiles to", len(diffs), *check, dir)
				}
				return nil
			}
			if err := render.Write(*out, tree, *stage < 0); err != nil {
				return err
			}
			n := 0
			for _, files := range tree {
				n += len(files)
			}
			fmt.Fprintf(env.Stderr, "rendered %d stage(s), %d files under %s (plan %s)\n", len(tree), n, *out, p.Fingerprint)
			return nil
		},
	})
}
