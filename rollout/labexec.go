package rollout

import (
	"context"
	"fmt"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// LabFiles renders stage k in the lab's file layout.
func LabFiles(c *schema.Cluster, p *compiler.Plan, k int) ([]lab.File, error) {
	rendered, err := render.StageFiles(c, p, k)
	if err != nil {
		return nil, err
	}
	files := make([]lab.File, len(rendered))
	for i, f := range rendered {
		files[i] = lab.File{Path: f.Path, Data: f.Data}
	}
	return files, nil
}

// LabExec performs steps on a lab in-process: the Go equivalent of
// `zkstage lab $ZKSTAGE_ACTION $ZKSTAGE_DIR $ZKSTAGE_HOST --stage $ZKSTAGE_STAGE`.
func LabExec(l *lab.Lab, c *schema.Cluster, p *compiler.Plan) Executor {
	return ExecFunc(func(ctx context.Context, s StepEnv) error {
		switch compiler.Action(s.Action) {
		case compiler.Stop:
			_, err := l.Stop(ctx, s.Host)
			return err
		case compiler.Start, compiler.Restart:
			files, err := LabFiles(c, p, s.Stage)
			if err != nil {
				return err
			}
			if compiler.Action(s.Action) == compiler.Start {
				_, err = l.Start(ctx, files, s.Stage, s.Host)
			} else {
				_, err = l.Restart(ctx, files, s.Stage, s.Host)
			}
			return err
		}
		return fmt.Errorf("unknown action %q", s.Action)
	})
}
