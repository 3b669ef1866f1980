package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/zkstage/zkstage/rollout"
)

// The bench's text view shows an election count the plan did not predict
// next to the plan's, and the step that held the stall.
func TestPrintBench(t *testing.T) {
	res := &rollout.BenchResult{Cluster: "lab", Lost: map[string]int{"rolling": 0}, Rows: []rollout.BenchRow{
		{Method: "rolling", Stage: 4, Name: "grow-7-to-11-roll", Steps: 7, Duration: 16 * time.Second, Stall: 1680 * time.Millisecond,
			Elections: 2, PlannedElections: 1, Leader: "zk1-dc1", StallStep: "7 restart zk5-dc1"},
		{Method: "rolling", Stage: 5, Name: "grow-7-to-11-start", Steps: 4, Elections: 0, PlannedElections: 0, Leader: "zk1-dc1"},
		{Method: "naive", Stage: 5, Name: "stop all, final config, start all", Elections: 1},
	}}
	var out bytes.Buffer
	printBench(&Env{Stdout: &out}, res)
	lines := strings.Split(out.String(), "\n")
	for _, tt := range []struct {
		line int
		want []string
		not  string
	}{
		{1, []string{"04 grow-7-to-11-roll", "1.68s", "7 restart zk5-dc1", "2 (plan 1)", "zk1-dc1"}, ""},
		{2, []string{"05 grow-7-to-11-start", "  -  "}, "(plan"},
		{3, []string{"stop all, final config, start all"}, "(plan"},
	} {
		for _, w := range tt.want {
			if !strings.Contains(lines[tt.line], w) {
				t.Errorf("line %d %q lacks %q", tt.line, lines[tt.line], w)
			}
		}
		if tt.not != "" && strings.Contains(lines[tt.line], tt.not) {
			t.Errorf("line %d %q has %q", tt.line, lines[tt.line], tt.not)
		}
	}
	if !strings.Contains(out.String(), "rolling: 0 acknowledged writes lost") {
		t.Errorf("no lost line:\n%s", out.String())
	}
}
