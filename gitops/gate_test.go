package gitops

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// commitOn makes a commit on top of rev with edit applied in the worktree
// and returns its hash; the worktree goes back to main afterwards.
func (r *testRepo) commitOn(rev string, edit func()) string {
	r.t.Helper()
	r.git("checkout", "-q", "--detach", rev)
	edit()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", "edit")
	h := r.git("rev-parse", "HEAD")
	r.git("checkout", "-q", "main")
	return h
}

func TestGateOffline(t *testing.T) {
	r := newTestRepo(t)
	_, p := r.plan()
	n := branchNames(p)
	r.mustStage(StageOptions{})
	zk2 := clusterRel + "/rendered/zk2-dc1/zoo.cfg"
	tampered := r.commitOn(n[1], func() {
		cfg := r.git("show", n[1]+":"+zk2)
		r.write(zk2, strings.Replace(cfg, "syncLimit=5", "syncLimit=50", 1)+"\n")
	})
	extra := r.commitOn(n[1], func() { r.write(clusterRel+"/rendered/zk9-dc9/myid", "9\n") })
	missing := r.commitOn(n[1], func() { r.git("rm", "-q", clusterRel+"/rendered/zk3-dc1/myid") })
	badSpec := r.commitOn(n[1], func() {
		spec := r.git("show", n[1]+":"+clusterRel+"/cluster.cue")
		r.write(clusterRel+"/cluster.cue", strings.Replace(spec, "election: 3555", "election: 355555", 1)+"\n")
	})

	type want struct {
		rendered, sequence string
		base, head         int
		detail, message    string
	}
	cases := []struct {
		name, base, head string
		want             want
	}{
		{"adopt stage 00", "main", n[0], want{GatePass, GatePass, -1, 0, "", "head adopts stage 00"}},
		{"next stage", n[0], n[1], want{GatePass, GatePass, 0, 1, "", "base stage 00 -> head stage 01"}},
		{"last stage", n[4], n[5], want{GatePass, GatePass, 4, 5, "", "base stage 04 -> head stage 05"}},
		{"skipping a stage", n[0], n[2], want{GatePass, GateFail, 0, 2, "", "stage 01 must merge first"}},
		{"already merged", n[1], n[1], want{GatePass, GateFail, 1, 1, "", "already at stage 01"}},
		{"going back", n[2], n[1], want{GatePass, GateFail, 2, 1, "", "already at stage 02"}},
		{"no base stage", "main", n[1], want{GatePass, GateFail, -1, 1, "", "first stage to merge is stage 00"}},
		{"tampered zoo.cfg", n[0], tampered, want{GateFail, GatePass, 0, 1, "changed " + zk2, "1 file(s) under clusters/lab41/rendered differ"}},
		{"extra file", n[0], extra, want{GateFail, GatePass, 0, 1, "extra " + clusterRel + "/rendered/zk9-dc9/myid", ""}},
		{"missing file", n[0], missing, want{GateFail, GatePass, 0, 1, "missing " + clusterRel + "/rendered/zk3-dc1/myid", ""}},
		{"spec does not compile", n[0], badSpec, want{GateFail, GatePass, 0, 1, "cluster.cue:", "the spec does not compile"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := r.gate(GateOptions{Base: tc.base, Head: tc.head, Offline: true})
			st := checkStatus(res)
			if st[GateRendered] != tc.want.rendered || st[GateSequence] != tc.want.sequence || st[GateLive] != GateSkipped {
				t.Errorf("statuses %v, want rendered=%s sequence=%s live=skipped\n%+v", st, tc.want.rendered, tc.want.sequence, res.Checks)
			}
			if res.BaseStage != tc.want.base || res.HeadStage != tc.want.head {
				t.Errorf("stages base %d head %d, want %d %d", res.BaseStage, res.HeadStage, tc.want.base, tc.want.head)
			}
			wantOK := tc.want.rendered == GatePass && tc.want.sequence == GatePass
			if res.OK() != wantOK {
				t.Errorf("OK() = %v, want %v", res.OK(), wantOK)
			}
			var text bytes.Buffer
			res.WriteText(&text)
			if tc.want.detail != "" && !strings.Contains(text.String(), tc.want.detail) {
				t.Errorf("output lacks %q:\n%s", tc.want.detail, text.String())
			}
			if tc.want.message != "" && !strings.Contains(text.String(), tc.want.message) {
				t.Errorf("output lacks %q:\n%s", tc.want.message, text.String())
			}
			var md bytes.Buffer
			res.WriteMarkdown(&md)
			if !strings.Contains(md.String(), "| 3 | the live ensemble verifies as the base's stage | ⏭️ skipped |") {
				t.Errorf("markdown does not show the live check as skipped:\n%s", md.String())
			}
		})
	}
}

func TestGateWorkingTree(t *testing.T) {
	r := newTestRepo(t)
	_, p := r.plan()
	n := branchNames(p)
	r.mustStage(StageOptions{})
	r.git("checkout", "-q", n[1])
	if res := r.gate(GateOptions{Base: n[0], Offline: true}); !res.OK() || res.Head != "working tree" {
		t.Fatalf("clean checkout of stage 01: %+v", res.Checks)
	}
	myid := clusterRel + "/rendered/zk1-dc1/myid"
	r.write(myid, "0\n") // the rename undone by hand
	res := r.gate(GateOptions{Base: n[0], Offline: true})
	if res.OK() || checkStatus(res)[GateRendered] != GateFail {
		t.Fatalf("tampered myid passed: %+v", res.Checks)
	}
	if d := res.Checks[0].Details; len(d) != 1 || d[0] != "changed "+myid {
		t.Errorf("details %q, want [changed %s]", d, myid)
	}
}

func TestGateInputErrors(t *testing.T) {
	r := newTestRepo(t)
	for _, tc := range []struct {
		name string
		opts GateOptions
		want string
	}{
		{"unknown base", GateOptions{Base: "no-such-branch"}, "no-such-branch: unknown revision"},
		{"unknown head", GateOptions{Base: "main", Head: "nope"}, "nope: unknown revision"},
		{"no base", GateOptions{}, "gate needs --base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Dir = r.clusterDir()
			_, err := Gate(t.Context(), tc.opts)
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want an InputError with %q", err, tc.want)
			}
		})
	}
}
