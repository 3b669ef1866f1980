package cli

import (
	"fmt"
	"sort"

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
		Example: `zkstage render clusters/reference --out clusters/reference/stages
zkstage render clusters/reference --check clusters/reference/stages -o json`,
		Short: "write (or check) zoo.cfg and myid of every stage",
		Long: `Writes OUT/NN-<stage>/<host>/zoo.cfg and myid for every host live at the
end of each stage (NN = 00 for the ensemble as it is today), and
OUT/NN-<stage>/stage.json, the stage manifest. The whole new content of
OUT is assembled in a folder beside it and swapped in with one rename, so
OUT holds either the old stages or the new ones, never a mix, and an error
leaves OUT as it was; anything else in OUT is kept. A second render into
the same place while one runs is refused. -o json prints a summary of what
was written on stdout.

With --check, nothing is written: the files under OUT that differ from
what the spec compiles to are listed on stdout and the exit code is 1. OUT
must exist; a symbolic link or a file that cannot be read inside it is an
input error (exit 2).`,
		Flags: func(fs *pflag.FlagSet) {
			out = fs.String("out", "", "folder to write the stages into")
			check = fs.String("check", "", "compare the stages under this folder instead of writing")
			stage = fs.Int("stage", -1, "only this stage, 0..N (default: every stage)")
			output = outputFlag(fs, "text", "json")
		},
		Run: func(env *Env, fs *pflag.FlagSet) error {
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
			if *stage >= len(p.Stages) || fs.Changed("stage") && *stage < 0 {
				return usageErr("--stage %d: the plan has stages 0..%d", *stage, len(p.Stages)-1)
			}
			tree, err := render.Render(c, p, *stage)
			if err != nil {
				return err
			}
			if *check != "" {
				diffs, err := render.Check(*check, tree, *stage < 0)
				if err != nil {
					return usageErr("--check: %v", err)
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
				return usageErr("--out: %v", err)
			}
			n := 0
			dirs := []string{}
			for dir, files := range tree {
				n += len(files)
				dirs = append(dirs, dir)
			}
			sort.Strings(dirs)
			if *output == "json" {
				return writeJSON(env.Stdout, map[string]interface{}{"out": *out, "fingerprint": p.Fingerprint, "stages": dirs, "files": n})
			}
			fmt.Fprintf(env.Stderr, "rendered %d stage(s), %d files under %s (plan %s)\n", len(tree), n, *out, p.Fingerprint)
			return nil
		},
	})
}
