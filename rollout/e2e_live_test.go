package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/report"
)

// TestExpansionUnderLoad rolls the lab topology from stage 00 (five servers,
// ids 0..4 in dc1) through every stage to eleven servers with the zkstage
// binary (roll, with the lab as --exec), while a client writes sequential
// znodes on its own session the whole time.
//
// It runs on every version of the matrix: 3.4 shows no membership, so there
// the runner's journal carries the progress and verify reads it.
func TestExpansionUnderLoad(t *testing.T) {
	for _, v := range labtest.Versions {
		t.Run(v, func(t *testing.T) { expansionUnderLoad(t, v) })
	}
}

func expansionUnderLoad(t *testing.T, version string) {
	f := newFixtureVersion(t, testDir, version, 0)
	bin := zkstageBin(t)
	ctx := context.Background()
	w, err := StartWriter(ctx, f.servers(), "/e2e-writer", WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	last := len(f.p.Stages) - 1
	if last != 5 {
		t.Fatalf("the lab topology should plan 5 stages after today, got %d", last)
	}
	chain := 0 // stages that ended with the leader the plan predicts
	for k := 1; k <= last; k++ {
		from := time.Now()
		cmd := exec.Command(bin, "roll", f.dir, "--stage", fmt.Sprint(k), "--exec", f.labCommand(t),
			"--step-timeout", "90s", "--canary", fmt.Sprintf("/roll-canary-%d", k), "-o", "json")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		t.Logf("stage %d progress:\n%s", k, stderr.String())
		if err != nil {
			t.Fatalf("roll stage %d: %v\nstdout:\n%s", k, err, stdout.String())
		}
		var res Result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("roll stage %d: bad JSON: %v\n%s", k, err, stdout.String())
		}
		if !res.OK || res.Failure != nil {
			t.Fatalf("roll stage %d not OK: %s", k, res.Message)
		}
		if len(res.Steps) != len(f.p.Stages[k].Steps) {
			t.Fatalf("stage %d: %d step results, plan has %d steps", k, len(res.Steps), len(f.p.Stages[k].Steps))
		}
		for _, s := range res.Steps {
			if s.Status != StatusDone {
				t.Errorf("stage %d: step %s %s is %s, want done", k, s.Action, s.Host, s.Status)
			}
		}
		if res.Writes == nil || res.Writes.Acked == 0 || len(res.MissingWrites) > 0 {
			t.Errorf("stage %d: canary writes %+v, missing %v", k, res.Writes, res.MissingWrites)
		}
		// Under a write load the election after the leader's restart goes
		// to the voter with the newest zxid first, and only then to the
		// highest id: the plan's prediction holds for equal zxids, which
		// TestLeaderChainAsPlanned checks with no writer. Here it is data.
		st := &f.p.Stages[k]
		if want := compiler.LeaderAfterFrom(st, res.StartLeader); res.Leader == want {
			chain++
		} else {
			t.Logf("stage %d: started with leader %s, ended with %s; with equal zxids the plan predicts %s", k, res.StartLeader, res.Leader, want)
		}
		// The verifier agrees the ensemble is at stage k.
		f.verify(t, k, 60*time.Second)
		ws := w.Stats(from, time.Now())
		t.Logf("stage %d: %s, %d elections, leader %s; writer: %d acked, %d failed, longest stall %s",
			k, res.Duration.Round(time.Millisecond), res.Elections, res.Leader, ws.Acked, ws.Failed, ws.Stall.Round(time.Millisecond))
		if ws.Acked == 0 {
			t.Errorf("stage %d: the writer acknowledged no write during the stage (last error %s)", k, w.LastError())
		}
	}

	// Every acknowledged write is there.
	acked := len(w.Acked())
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged writes are missing, first %v", len(missing), acked, missing[:min(5, len(missing))])
	}
	t.Logf("%d acknowledged writes, all present", acked)
	t.Logf("under load, %d of %d stages ended with the leader predicted for equal zxids (plan: %s)", chain, last, report.LeaderChain(f.p))

	// Every host's conf lists the final membership, and the leader is in dc1.
	final := f.manifest(last)
	if len(final.Live) != 11 {
		t.Fatalf("final stage has %d live hosts, want 11", len(final.Live))
	}
	f.finalMembership(t, "dc1")
}
