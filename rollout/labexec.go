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
	return LabExecWith(l, c, p, LabExecOptions{})
}

// LabExecOptions change how LabExec stops a host.
type LabExecOptions struct {
	// KillOutside stops a host that runs outside the committed
	// configuration (StepEnv.Outside) with SIGKILL: `zkstage lab ...
	// ${ZKSTAGE_OUTSIDE:+--kill}`.
	KillOutside bool
}

// LabExecWith is LabExec with options.
func LabExecWith(l *lab.Lab, c *schema.Cluster, p *compiler.Plan, o LabExecOptions) Executor {
	return ExecFunc(func(ctx context.Context, s StepEnv) error {
		kill := o.KillOutside && s.Outside
		switch compiler.Action(s.Action) {
		case compiler.Stop:
			var err error
			if kill {
				_, err = l.Kill(ctx, s.Host)
			} else {
				_, err = l.Stop(ctx, s.Host)
			}
			return err
		case compiler.Start, compiler.Restart:
			files, err := LabFiles(c, p, s.Stage)
			if err != nil {
				return err
			}
			switch {
			case compiler.Action(s.Action) == compiler.Start:
				_, err = l.Start(ctx, files, s.Stage, s.Host)
			case kill:
				if _, err = l.Kill(ctx, s.Host); err == nil {
					_, err = l.Start(ctx, files, s.Stage, s.Host)
				}
			default:
				_, err = l.Restart(ctx, files, s.Stage, s.Host)
			}
			return err
		}
		return fmt.Errorf("unknown action %q", s.Action)
	})
}
