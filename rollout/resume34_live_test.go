package rollout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/compiler"
)

// TestRunnerKilledOn34: ZooKeeper 3.4 cannot show which configuration a
// server runs. The runner is killed (SIGKILL, no cleanup) in the middle of
// the 5 -> 7 roll; the restarts it finished are known only from the rollout
// journal in the ensemble. Without --resume the stage is refused as partly
// done, naming the journal; with it the roll skips exactly those steps,
// restarts the others once, and the stage verifies.
func TestRunnerKilledOn34(t *testing.T) {
	f := newFixtureVersion(t, testDir, "3.4.6", 1)
	bin := zkstageBin(t)
	const k = 2 // grow-5-to-7-roll: five restarts, none visible on 3.4
	if got := f.p.Stages[k].Kind; !strings.Contains(f.p.Stages[k].Name, "roll") {
		t.Fatalf("stage %d is %s %s, want a grow roll", k, f.p.Stages[k].Name, got)
	}
	counter := filepath.Join(t.TempDir(), "steps")
	// The third command kills the runner (its parent) and never restarts
	// anything: a runner machine that dies mid-stage.
	killer := fmt.Sprintf(`n=$(cat %[1]q 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]q; if [ $n -eq 3 ]; then kill -KILL $PPID; sleep 5; exit 1; fi; `, counter) + f.labCommand(t)
	before := f.starts(t)
	cmd := exec.Command(bin, "roll", f.dir, "--stage", fmt.Sprint(k), "--exec", killer, "--step-timeout", "90s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("roll: %v, want the runner killed by a signal\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	mid := f.starts(t)
	var done []string
	for h := range mid {
		if mid[h] > before[h] {
			done = append(done, h)
		}
	}
	if len(done) != 2 {
		t.Fatalf("%d hosts restarted before the kill (%v), want 2", len(done), done)
	}

	// Nothing live shows the two restarts; the journal does.
	refuse := exec.Command(bin, "roll", f.dir, "--stage", fmt.Sprint(k), "--exec", f.labCommand(t), "--step-timeout", "90s")
	out, err := refuse.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "partly rolled out already (2 of 5 steps done") || strings.Count(string(out), "(journal)") != 2 {
		t.Fatalf("without --resume: %v, want exit 1 and a refusal naming 2 steps from the journal:\n%s", err, out)
	}
	if now := f.starts(t); fmt.Sprint(now) != fmt.Sprint(mid) {
		t.Fatalf("the refused roll started hosts: %v -> %v", mid, now)
	}

	resume := exec.Command(bin, "roll", f.dir, "--stage", fmt.Sprint(k), "--exec", f.labCommand(t), "--step-timeout", "90s", "--resume", "-o", "json")
	stdout.Reset()
	stderr.Reset()
	resume.Stdout, resume.Stderr = &stdout, &stderr
	if err := resume.Run(); err != nil {
		t.Fatalf("resume: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	already := 0
	for _, s := range res.Steps {
		if s.Status == StatusAlreadyDone {
			already++
			if s.Source != "journal" {
				t.Errorf("%s already done by %q, want the journal", s.Host, s.Source)
			}
		}
	}
	if !res.OK || already != 2 {
		t.Fatalf("resume: ok=%v, %d steps already done, want 2: %s", res.OK, already, res.Message)
	}
	end := f.starts(t)
	for h := range end {
		want := mid[h] + 1
		for _, d := range done {
			if d == h {
				want = mid[h]
			}
		}
		if !hasStep(f.p.Stages[k].Steps, h) {
			want = mid[h]
		}
		if end[h] != want {
			t.Errorf("%s started %d times by the resumed roll, want %d", h, end[h]-mid[h], want-mid[h])
		}
	}
	r := f.verify(t, k, 60*time.Second)
	var b strings.Builder
	_ = r.WriteText(&b)
	if !strings.Contains(b.String(), "(journal)") {
		t.Errorf("verify does not say the membership came from the journal:\n%s", b.String())
	}
	_ = os.Remove(counter)
}

func hasStep(steps []compiler.Step, h string) bool {
	for _, s := range steps {
		if s.Host == h {
			return true
		}
	}
	return false
}
