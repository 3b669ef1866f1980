package rollout

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/compiler/compilertest"
	"github.com/zkstage/zkstage/render"
)

// The add stage of the reference plan: each host step alone, the seven adds
// as one operation sending seven server lines against the committed four.
func TestReconfigBatchesAndNextConfig(t *testing.T) {
	c, p := compilertest.Plan(t, "../clusters/reconfig")
	from, to := render.NewManifest(c, p, 2), render.NewManifest(c, p, 3)
	r := &runner{opts: Options{}, from: from, to: to, members: map[string]compiler.Member{}, steps: to.Steps, done: map[int]bool{}}
	for _, ms := range [][]compiler.Member{from.Outside, from.Members, to.Members} {
		for _, m := range ms {
			r.members[m.Host] = m
		}
	}
	rr := &reconfigRun{runner: r, committed: from.Members, lines: to.ServerLines}
	bs := rr.batches()
	if len(bs) != 8 {
		t.Fatalf("%d batches, want 7 host steps and one op", len(bs))
	}
	op := bs[7]
	if len(op.idx) != 7 {
		t.Fatalf("op has %d steps", len(op.idx))
	}
	next, joining, leaving := rr.nextConfig(op)
	if len(next) != 11 || len(leaving) != 0 || len(joining) != 7 {
		t.Fatalf("next %d members, joining %v, leaving %v", len(next), joining, leaving)
	}
	if joining[0] != "server.100=192.168.1.100:2555:3555:participant;192.168.1.100:2181" {
		t.Errorf("joining[0] = %q", joining[0])
	}
	// The remove stage: one op of one id.
	from, to = render.NewManifest(c, p, 1), render.NewManifest(c, p, 2)
	r.steps, r.from, r.to = to.Steps, from, to
	rr.committed = from.Members
	bs = rr.batches()
	next, joining, leaving = rr.nextConfig(bs[0])
	if len(bs) != 1 || len(next) != 4 || len(joining) != 0 || strings.Join(leaving, ",") != "0" {
		t.Errorf("remove: %d batches, next %d, joining %v, leaving %v", len(bs), len(next), joining, leaving)
	}
}

func TestReconfigErrorNames(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{zk.ErrBadVersion, "BadVersion"},
		{zk.ErrNoAuth, EnvReconfigAuth},
		{zk.ErrReconfigDisabled, "enabling stage"},
		{errors.New("unknown error: -13"), "NewConfigNoQuorum"},
		{errors.New("unknown error: -14"), "ReconfigInProgress"},
	} {
		if got := reconfigError(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestReconfigPreviewOutside: --dry-run shows ZKSTAGE_OUTSIDE=1 in the
// environment of the rename's restart (its old id was removed in the
// stage before) and nowhere else: not for the joiners' starts, not for the
// enabling stage's restarts of members.
func TestReconfigPreviewOutside(t *testing.T) {
	c, p := compilertest.Plan(t, "../clusters/reconfig")
	for _, k := range []int{1, 3} {
		pv, err := NewPreview(render.NewManifest(c, p, k-1), render.NewManifest(c, p, k), "clusters/reconfig")
		if err != nil {
			t.Fatal(err)
		}
		var outside []string
		for _, s := range pv.Steps {
			for _, e := range s.Env {
				if e == EnvOutside+"=1" {
					outside = append(outside, s.Action+" "+s.Host)
				}
			}
		}
		want := ""
		if k == 3 {
			want = "restart zk1-dc1"
		}
		if got := strings.Join(outside, ", "); got != want {
			t.Errorf("stage %d: steps with %s=1: %q, want %q", k, EnvOutside, got, want)
		}
	}
}
