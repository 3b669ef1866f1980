package rollout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// BenchOptions configure a bench run.
type BenchOptions struct {
	Cluster *schema.Cluster
	Plan    *compiler.Plan
	// State holds one lab per method (State/rolling, State/naive); both
	// must not exist yet, so the bench always starts from empty data.
	State string
	// Lab is the template of the lab options (ZooKeeperHome, TickTime...);
	// State is set per method.
	Lab lab.Options
	// StepTimeout bounds every step of the rolling method and the naive
	// method's wait for the final ensemble (default 2m).
	StepTimeout time.Duration
	// HandoverWait is the runner's wait for the others' election when it
	// restarts the leader (Options.HandoverWait; 0: its default).
	HandoverWait time.Duration
	// KillOutside stops a host outside the committed configuration with
	// SIGKILL (LabExecOptions.KillOutside): under reconfig, the rename's
	// restart and the stop of a removed host.
	KillOutside bool
	// Methods limits the run to these methods (rolling, reconfig, naive);
	// empty: all three.
	Methods []string
	// Progress receives one line per stage (or nil).
	Progress func(string)
}

// BenchMethods are the methods Bench compares, in the order it runs them.
var BenchMethods = []string{"rolling", "reconfig", "naive"}

func (o BenchOptions) runs(method string) bool {
	if len(o.Methods) == 0 {
		return true
	}
	for _, m := range o.Methods {
		if m == method {
			return true
		}
	}
	return false
}

// BenchRow is one stage of one method.
type BenchRow struct {
	Method    string        `json:"method"` // rolling | reconfig | naive
	Stage     int           `json:"stage"`
	Name      string        `json:"name"`
	Steps     int           `json:"steps"`
	Duration  time.Duration `json:"durationNs"`
	Stall     time.Duration `json:"longestStallNs"`
	Failed    int           `json:"failedWrites"`
	Acked     int           `json:"ackedWrites"`
	Elections int           `json:"elections"`
	// PlannedElections is what the plan predicts for the stage (the
	// stage's story; the naive method has none).
	PlannedElections int    `json:"plannedElections"`
	Leader           string `json:"leader,omitempty"`
	// StallStep is the step whose window holds most of the longest stall
	// ("3 restart zk1-dc1"; empty when no step's window touches it, and
	// for a total).
	StallStep string `json:"longestStallStep,omitempty"`
}

// BenchResult is the bench's table: rolling stages, the rolling total, the
// naive method.
type BenchResult struct {
	Cluster string     `json:"cluster"`
	Rows    []BenchRow `json:"rows"`
	// Lost counts acknowledged writes missing at the end, per method.
	Lost map[string]int `json:"lostWrites"`
	// Skipped names the methods that cannot plan this change, and why
	// (reconfig before 3.5.3; rolling where no rolling plan keeps quorum).
	Skipped []string `json:"skipped,omitempty"`
	// KillOutside: hosts outside the configuration were stopped with
	// SIGKILL (BenchOptions.KillOutside).
	KillOutside bool `json:"killOutside,omitempty"`
}

const benchCanary = "/zkstage-bench"

// Bench runs the plan's change on three fresh labs under a background
// writer: every stage rolled by the runner under the rolling method, then
// under dynamic reconfiguration, then the naive method (stop every server,
// write the final config, start all).
func Bench(ctx context.Context, o BenchOptions) (*BenchResult, error) {
	if o.StepTimeout <= 0 {
		o.StepTimeout = 2 * time.Minute
	}
	if len(o.Plan.Stages) < 2 {
		return nil, errors.New("bench: the plan has no stage after today: nothing to roll")
	}
	for _, m := range o.Methods {
		if !slices.Contains(BenchMethods, m) {
			return nil, fmt.Errorf("bench: unknown method %q (want %s)", m, strings.Join(BenchMethods, ", "))
		}
	}
	for _, m := range BenchMethods {
		if _, err := os.Stat(filepath.Join(o.State, m)); err == nil {
			return nil, fmt.Errorf("bench: %s exists: the bench needs empty labs (remove it or choose another --state)", filepath.Join(o.State, m))
		}
	}
	res := &BenchResult{Cluster: o.Cluster.Name, Lost: map[string]int{}, KillOutside: o.KillOutside}
	rolling, reconfig, why := benchPlans(o.Cluster, o.Plan)
	switch {
	case !o.runs("rolling"):
	case rolling != nil:
		if err := benchStages(ctx, o, "rolling", rolling, res); err != nil {
			return res, err
		}
	default:
		res.Skipped = append(res.Skipped, "rolling: "+why["rolling"])
	}
	switch {
	case !o.runs("reconfig"):
	case reconfig != nil:
		if err := benchStages(ctx, o, "reconfig", reconfig, res); err != nil {
			return res, err
		}
	default:
		res.Skipped = append(res.Skipped, "reconfig: "+why["reconfig"])
	}
	// The naive method writes the final static configuration: the rolling
	// plan's last stage (a reconfig plan's files boot each host from its
	// own bootstrap membership, which is not a configuration to start all
	// at once).
	switch {
	case !o.runs("naive"):
	case rolling != nil:
		no := o
		no.Cluster, no.Plan = rolling.c, rolling.p
		if err := benchNaive(ctx, no, res); err != nil {
			return res, err
		}
	default:
		res.Skipped = append(res.Skipped, "naive: it starts the rolling plan's final static files, and there is no rolling plan")
	}
	return res, nil
}

func (o BenchOptions) progress(format string, args ...interface{}) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

func (o BenchOptions) newLab(method string) (*lab.Lab, error) {
	lo := o.Lab
	lo.State = filepath.Join(o.State, method)
	return lab.New(lo)
}

// servers is the final connect string: every host of the spec.
func (o BenchOptions) servers() []string {
	var out []string
	for _, h := range o.Cluster.Hosts {
		out = append(out, net.JoinHostPort(h.Address, strconv.Itoa(o.Cluster.Ports.Client)))
	}
	return out
}

// startAt brings a fresh lab to stage k and starts the writer.
func (o BenchOptions) startAt(ctx context.Context, l *lab.Lab, k int) (*Writer, error) {
	files, err := LabFiles(o.Cluster, o.Plan, k)
	if err != nil {
		return nil, err
	}
	if _, err := l.Up(ctx, files, k); err != nil {
		return nil, err
	}
	if _, err := waitStage(ctx, render.NewManifest(o.Cluster, o.Plan, k), o.StepTimeout); err != nil {
		return nil, err
	}
	return StartWriter(ctx, o.servers(), benchCanary, WriterOptions{})
}

// benchStages rolls every stage of plan p (the spec c under one method) on
// a fresh lab under the writer. Under reconfig it also sums the stages
// after the enabling one: the membership change proper.
func benchStages(ctx context.Context, o BenchOptions, method string, pc *planOf, res *BenchResult) error {
	l, err := o.newLab(method)
	if err != nil {
		return err
	}
	defer l.Down(context.Background())
	po := o
	po.Cluster, po.Plan = pc.c, pc.p
	w, err := po.startAt(ctx, l, 0)
	if err != nil {
		return fmt.Errorf("bench %s: stage 0: %w", method, err)
	}
	defer w.Close()
	total := BenchRow{Method: method, Stage: -1, Name: "total"}
	change := BenchRow{Method: method, Stage: -1, Name: "after enabling"}
	var changeStart time.Time
	t0 := time.Now()
	for k := 1; k < len(pc.p.Stages); k++ {
		start := time.Now()
		if method == "reconfig" && pc.p.Stages[k].Kind != compiler.KindReconfigEnable && changeStart.IsZero() {
			changeStart = start
		}
		r, err := Run(ctx, Options{From: render.NewManifest(pc.c, pc.p, k-1), To: render.NewManifest(pc.c, pc.p, k),
			Exec: LabExecWith(l, pc.c, pc.p, LabExecOptions{KillOutside: o.KillOutside}), Writer: w, StepTimeout: o.StepTimeout, HandoverWait: o.HandoverWait})
		if err != nil {
			return err
		}
		if !r.OK {
			return fmt.Errorf("bench %s: stage %d stopped: %s", method, k, r.Message)
		}
		// The stage ends when the client has written again.
		end := w.waitAck(start, 30*time.Second)
		ws := w.Stats(start, end)
		gs, ge := w.longestGap(start, end)
		row := BenchRow{Method: method, Stage: k, Name: pc.p.Stages[k].Name, Steps: len(r.Steps), Duration: end.Sub(start),
			Stall: ws.Stall, Failed: ws.Failed, Acked: ws.Acked, Elections: r.Elections, PlannedElections: pc.p.Stages[k].Elections, Leader: r.Leader, StallStep: stallStep(r, gs, ge)}
		res.Rows = append(res.Rows, row)
		o.progress("%s stage %d %s: %s, stall %s, %d failed writes, %d election(s)", method, k, row.Name,
			row.Duration.Round(10*time.Millisecond), row.Stall.Round(10*time.Millisecond), row.Failed, row.Elections)
		total.Steps += row.Steps
		total.Elections += row.Elections
		total.PlannedElections += row.PlannedElections
		total.Leader = row.Leader
		if !changeStart.IsZero() {
			change.Steps += row.Steps
			change.Elections += row.Elections
			change.PlannedElections += row.PlannedElections
			change.Leader = row.Leader
		}
	}
	end := time.Now()
	ws := w.Stats(t0, end)
	total.Duration, total.Stall, total.Failed, total.Acked = end.Sub(t0), ws.Stall, ws.Failed, ws.Acked
	res.Rows = append(res.Rows, total)
	if !changeStart.IsZero() && pc.p.Stages[1].Kind == compiler.KindReconfigEnable {
		cs := w.Stats(changeStart, end)
		change.Duration, change.Stall, change.Failed, change.Acked = end.Sub(changeStart), cs.Stall, cs.Failed, cs.Acked
		res.Rows = append(res.Rows, change)
	}
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	res.Lost[method] = len(missing)
	return nil
}

// stallStep names the step of r whose window overlaps most of the gap
// [start, end), the stage's longest stall; a reconfig operation is named
// once, by its first host.
func stallStep(r *Result, start, end time.Time) string {
	best, name := time.Duration(0), ""
	for _, s := range r.Steps {
		if s.Started.IsZero() { // not run, or done by an earlier run
			continue
		}
		from, to := s.Started, s.Started.Add(s.Duration)
		if start.After(from) {
			from = start
		}
		if end.Before(to) {
			to = end
		}
		if o := to.Sub(from); o > best {
			best = o
			name = fmt.Sprintf("%d %s %s", s.K, s.Action, s.Host)
			if s.Action == string(compiler.Add) || s.Action == string(compiler.Remove) {
				name = fmt.Sprintf("%d %s (one operation)", s.K, s.Action)
			}
		}
	}
	return name
}

type planOf struct {
	c *schema.Cluster
	p *compiler.Plan
}

// benchPlans plans the spec under both methods: the spec's own, and the
// other one (reconfig with skipACL, the lab needing no secret; only on
// 3.5.3+). A method that cannot plan the change is skipped, with why.
func benchPlans(c *schema.Cluster, p *compiler.Plan) (rolling, reconfig *planOf, why map[string]string) {
	why = map[string]string{}
	own := &planOf{c: c, p: p}
	other := *c
	other.Policy = c.Policy
	other.Settings = c.Settings
	if c.Policy.Method == schema.MethodReconfig {
		reconfig = own
		other.Policy.Method, other.Policy.ReconfigAuth, other.Policy.SuperDigest, other.Policy.SuperDigestFrom, other.Policy.ReconfigEnabled = schema.MethodRolling, "", "", "", false
		other.Settings.ConfigDir = ""
	} else {
		rolling = own
		other.Policy.Method, other.Policy.ReconfigAuth = schema.MethodReconfig, schema.AuthSkipACL
		other.Settings.ConfigDir = "/etc/zookeeper/conf"
	}
	op, err := compiler.Compile(&other)
	if err != nil {
		why[other.Policy.Method] = err.Error()
		return rolling, reconfig, why
	}
	if other.Policy.Method == schema.MethodReconfig {
		reconfig = &planOf{c: &other, p: op}
	} else {
		rolling = &planOf{c: &other, p: op}
	}
	return rolling, reconfig, why
}

func benchNaive(ctx context.Context, o BenchOptions, res *BenchResult) error {
	l, err := o.newLab("naive")
	if err != nil {
		return err
	}
	defer l.Down(context.Background())
	w, err := o.startAt(ctx, l, 0)
	if err != nil {
		return fmt.Errorf("bench naive: stage 0: %w", err)
	}
	defer w.Close()
	last := len(o.Plan.Stages) - 1
	final := render.NewManifest(o.Cluster, o.Plan, last)
	before, _ := waitStage(ctx, render.NewManifest(o.Cluster, o.Plan, 0), o.StepTimeout)
	start := time.Now()
	if _, err := l.Down(ctx); err != nil {
		return err
	}
	files, err := LabFiles(o.Cluster, o.Plan, last)
	if err != nil {
		return err
	}
	if _, err := l.Up(ctx, files, last); err != nil {
		return err
	}
	after, err := waitStage(ctx, final, o.StepTimeout)
	if err != nil {
		return fmt.Errorf("bench naive: %w", err)
	}
	end := w.waitAck(start, 30*time.Second)
	ws := w.Stats(start, end)
	row := BenchRow{Method: "naive", Stage: last, Name: "stop all, final config, start all", Steps: len(final.Live) + len(o.Plan.Stages[0].Live),
		Duration: end.Sub(start), Stall: ws.Stall, Failed: ws.Failed, Acked: ws.Acked, Leader: after.Leader}
	if before != nil && before.Leader != "" {
		row.Elections = int(after.Hosts[after.Leader].Epoch - before.Hosts[before.Leader].Epoch)
	}
	res.Rows = append(res.Rows, row)
	o.progress("naive: %s, stall %s, %d failed writes, %d election(s)", row.Duration.Round(10*time.Millisecond),
		row.Stall.Round(10*time.Millisecond), row.Failed, row.Elections)
	missing, err := w.Check(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	res.Lost["naive"] = len(missing)
	return nil
}

// waitStage waits until every host live at the end of the manifest's stage
// serves with its membership, under one leader whose synced learners are
// all the others: the runner's gate with no step in flight.
func waitStage(ctx context.Context, m *render.Manifest, timeout time.Duration) (*state, error) {
	r, err := newRunner(Options{From: m, To: m})
	if err != nil {
		return nil, err
	}
	// Every step of the stage counts as done: the ensemble is at its end.
	for i := range r.steps {
		r.done[i] = true
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, problems := r.waitGate(ctx, compiler.Step{Action: compiler.Restart, Host: ""})
	if len(problems) > 0 {
		return st, fmt.Errorf("stage %d not reached within %s: %s", m.Stage, timeout, problems[0])
	}
	return st, nil
}

// waitAck returns the time of the first acknowledged write after t (and
// after now's last gap), or now after timeout.
func (w *Writer) waitAck(after time.Time, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	mark := time.Now()
	for time.Now().Before(deadline) {
		w.mu.Lock()
		n := len(w.acks)
		var lastAck time.Time
		if n > 0 {
			lastAck = w.acks[n-1]
		}
		w.mu.Unlock()
		if !lastAck.Before(mark) && lastAck.After(after) {
			return lastAck.Add(time.Nanosecond)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Now()
}
