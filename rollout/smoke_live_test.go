package rollout

import (
	"context"
	"testing"
)

func TestSmokeStage1(t *testing.T) {
	f := newFixture(t, 0)
	res, err := Run(context.Background(), func() Options {
		o := f.opts(1, LabExec(f.lab, f.c, f.p))
		o.Progress = func(e Event) { t.Logf("%s %d/%d %s %s %s %s", e.Kind, e.K, e.N, e.Step.Action, e.Step.Host, e.Elapsed, e.Message) }
		return o
	}())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if !res.OK {
		t.Fatal(res.Message)
	}
}
