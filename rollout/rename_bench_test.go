package rollout

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
)

// BenchmarkRenameClient measures what a client connected to the renamed
// host sees in the reference expansion by dynamic reconfiguration (5 ->
// 11, 0 -> 100; 127.0.81-83.x): the enabling and remove stages run first,
// then a writer whose session starts on the renamed host zk1-dc1 writes
// through the add stage, whose first step restarts that host under its
// new id while it runs outside the configuration. The host is stopped with
// SIGTERM (as a service manager does) or, as ZKSTAGE_OUTSIDE=1 allows,
// with SIGKILL. Metrics per iteration: the writer's longest stall in the
// rename's restart step and in the whole stage, and its failed writes.
//
//	go test -run XXX -bench RenameClient -benchtime 3x ./rollout
func BenchmarkRenameClient(b *testing.B) {
	for _, v := range []string{"3.5.10", "3.8.0"} {
		for _, kill := range []bool{false, true} {
			name := v + "/sigterm"
			if kill {
				name = v + "/sigkill"
			}
			b.Run(name, func(b *testing.B) { benchRenameClient(b, v, kill) })
		}
	}
}

func benchRenameClient(b *testing.B, version string, kill bool) {
	var rename, stage time.Duration
	var fails int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newReconfigFixture(b, version, false)
		ctx := context.Background()
		for k := 1; k < len(f.p.Stages)-1; k++ {
			res, err := Run(ctx, f.opts(k, nil))
			if err != nil || !res.OK {
				b.Fatalf("stage %d: %v %+v", k, err, res)
			}
			f.verify(b, k)
		}
		last := len(f.p.Stages) - 1
		st := &f.p.Stages[last]
		if len(st.Renamed) != 1 || st.Steps[0].Host != st.Renamed[0].Host || st.Steps[0].Action != compiler.Restart {
			b.Fatalf("stage %d %s: want the rename's restart first, steps %+v", last, st.Name, st.Steps)
		}
		host := st.Renamed[0].Host
		first := fmt.Sprintf("%s:%d", f.c.Hosts[host].Address, f.c.Ports.Client)
		w, err := StartWriter(ctx, f.servers(), "/zkstage-bench-rename", WriterOptions{First: first})
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second) // writes before the stage
		o := f.opts(last, w)
		o.Exec = LabExecWith(f.lab, f.c, f.p, LabExecOptions{KillOutside: kill})
		b.StartTimer()
		res, err := Run(ctx, o)
		b.StopTimer()
		if err != nil || !res.OK {
			w.Close()
			b.Fatalf("stage %d: %v %+v", last, err, res)
		}
		time.Sleep(time.Second) // writes after it
		missing, err := w.Check(ctx, 30*time.Second)
		w.Close()
		if err != nil || len(missing) > 0 {
			b.Fatalf("acknowledged writes missing: %v %v", err, missing)
		}
		s0 := res.Steps[0]
		if s0.Host != host || s0.Writes == nil || res.Writes == nil {
			b.Fatalf("first step %+v: no writer statistics", s0)
		}
		b.Logf("%s %s: rename step stall %s, stage stall %s, failed writes %d (step %d)", version, map[bool]string{false: "sigterm", true: "sigkill"}[kill],
			s0.Writes.Stall.Round(time.Millisecond), res.Writes.Stall.Round(time.Millisecond), res.Writes.Failed, s0.Writes.Failed)
		rename += s0.Writes.Stall
		stage += res.Writes.Stall
		fails += res.Writes.Failed
		f.lab.Down(ctx)
	}
	n := float64(b.N)
	b.ReportMetric(float64(rename.Milliseconds())/n, "rename-stall-ms")
	b.ReportMetric(float64(stage.Milliseconds())/n, "stage-stall-ms")
	b.ReportMetric(float64(fails)/n, "failed-writes")
}
