package rollout

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestShrinkUnderLoad decommissions two voters and an observer (seven
// voters and an observer down to five voters) on a real ensemble, stage by
// stage with the runner and the lab, while a client writes on its own
// session: the leaving hosts stop first, then the rest roll onto the smaller
// config. Every acknowledged write survives, every remaining host's conf
// lists the five, and the leaving hosts no longer run.
func TestShrinkUnderLoad(t *testing.T) {
	f := newFixtureAt(t, "testdata/shrink34", 0)
	ctx := context.Background()
	last := len(f.p.Stages) - 1
	if last != 2 || f.p.Stages[1].Name != "shrink-7-to-5-stop" || f.p.Stages[2].Name != "shrink-7-to-5-roll" {
		t.Fatalf("want the stages shrink-7-to-5-stop and -roll, got %d stages after today", last)
	}
	final := f.manifest(last)
	var servers []string
	for _, m := range final.Members {
		servers = append(servers, net.JoinHostPort(m.Address, strconv.Itoa(m.ClientPort)))
	}
	// The writer uses the hosts that stay, as clients of a shrinking
	// ensemble must (a client of a leaving host loses its server).
	w, err := StartWriter(ctx, servers, "/shrink-writer", WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for k := 1; k <= last; k++ {
		from := time.Now()
		o := f.opts(k, LabExec(f.lab, f.c, f.p))
		res, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			t.Fatalf("stage %d: %s", k, res.Message)
		}
		for _, s := range res.Steps {
			if s.Status != StatusDone {
				t.Errorf("stage %d: step %s %s is %s, want done", k, s.Action, s.Host, s.Status)
			}
		}
		f.verify(t, k, 60*time.Second)
		ws := w.Stats(from, time.Now())
		t.Logf("stage %d %s: %d steps in %s, %d elections, leader %s; writer: %d acked, %d failed, longest stall %s",
			k, f.p.Stages[k].Name, len(res.Steps), res.Duration.Round(time.Millisecond), res.Elections, res.Leader, ws.Acked, ws.Failed, ws.Stall.Round(time.Millisecond))
	}

	acked := len(w.Acked())
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if acked == 0 || len(missing) > 0 {
		t.Errorf("%d acknowledged writes, %d missing (first %v)", acked, len(missing), missing[:min(5, len(missing))])
	}
	for _, h := range []string{"b3", "b4", "o1"} {
		if st := f.lab.HostStatus(ctx, h); st.Running {
			t.Errorf("%s left the ensemble but still runs (pid %d)", h, st.Pid)
		}
	}
	if len(final.Members) != 5 {
		t.Fatalf("final stage has %d members, want the five remaining voters", len(final.Members))
	}
	f.finalMembership(t, "dc1")
	t.Logf("%d acknowledged writes, all present", acked)
}
