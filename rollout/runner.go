package rollout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/journal"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/verify"
)

// Options configure one roll.
type Options struct {
	// From and To are the manifests of stage N-1 and stage N (the one rolled).
	From, To *render.Manifest
	// Dir is the cluster directory, passed to the command as ZKSTAGE_DIR.
	Dir string
	// Exec performs each step.
	Exec Executor
	// StepTimeout bounds each step: the command and its gate (default 2m).
	StepTimeout time.Duration
	// Resume skips the steps the live state shows done (the host serves
	// with the stage's config and id, or a stopped host is down). Without
	// it, a stage that is partly done is refused.
	Resume bool
	// ProbeTimeout bounds each four-letter word (default 2s).
	ProbeTimeout time.Duration
	// Poll is the pause between two observations while a gate waits
	// (default 250ms).
	Poll time.Duration
	// Canary, when set, is the znode path of a background writer started for
	// the roll: per-step stalls and failed writes, and a check at the end
	// that every acknowledged write is present (then the znodes are deleted).
	Canary string
	// Writer is an already running writer to take figures from (the bench
	// keeps one across stages); Canary is then ignored.
	Writer *Writer
	// Progress receives one event per step state change.
	Progress func(Event)
	// KeepLeader turns off the leader move at the end of a roll: by default,
	// a roll that ends with the leader outside the most preferred datacenter
	// while a host there holds the highest live id restarts the leader once
	// (one election) so that the election puts it back.
	KeepLeader bool
	// NoJournal: do not read or write the rollout journal (a stage rolled
	// without write access to the ensemble). On 3.4 --resume then cannot
	// tell which restarts are done, and verify cannot pass without an
	// acknowledgement.
	NoJournal bool
	// HandoverWait bounds how long a leader's restart waits, its host
	// stopped, for the others to elect the leader the plan predicts before
	// the host starts again (default 10s; see runner.exec). Past it the
	// host starts anyway: the ensemble needs it more than the placement.
	HandoverWait time.Duration
}

// EventKind is what happened to a step.
type EventKind string

const (
	EventStart   EventKind = "start"
	EventDone    EventKind = "done"
	EventSkipped EventKind = "skipped" // already done (--resume)
	EventFailed  EventKind = "failed"
)

// Event is a progress report.
type Event struct {
	Kind    EventKind
	K, N    int // step k of n, in execution order
	Step    compiler.Step
	Leader  bool // the host was the live leader when its step began
	Elapsed time.Duration
	Message string
}

// Step statuses in a result.
const (
	StatusDone        = "done"
	StatusAlreadyDone = "already-done"
	StatusFailed      = "failed"
	StatusRefused     = "refused" // the pre-step check stopped the roll
	StatusNotRun      = "not-run"
)

// ActionMoveLeader is the extra step that restarts a leader found outside
// the most preferred datacenter at the end of a roll.
const ActionMoveLeader = "move-leader"

// StepResult is one step of the roll.
type StepResult struct {
	K      int    `json:"k"`    // execution order, 1-based (0: not run)
	Plan   int    `json:"plan"` // position in the plan, 1-based
	Action string `json:"action"`
	Host   string `json:"host"`
	ID     int    `json:"id"`
	FromID *int   `json:"fromId,omitempty"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Evidence: the observation that made the step fail or be refused.
	Evidence []string `json:"evidence,omitempty"`
	// WasLeader: the host led when its step began.
	WasLeader     bool          `json:"wasLeader,omitempty"`
	PlannedMargin int           `json:"plannedMargin"`
	LiveMargin    *int          `json:"liveMargin,omitempty"`
	MarginRule    string        `json:"marginRule,omitempty"`
	Started       time.Time     `json:"started,omitempty"`
	Duration      time.Duration `json:"durationNs"`
	CommandTime   time.Duration `json:"commandNs"`
	GateTime      time.Duration `json:"gateNs"` // from the command's end to the gate passing
	// Elections counted from the leader's epoch before and after the step.
	Elections   int         `json:"elections"`
	LeaderAfter string      `json:"leaderAfter,omitempty"`
	Writes      *WriteStats `json:"writes,omitempty"`
	// Source says how an already-done step was known: "observed" or
	// "journal" (3.4 shows no membership).
	Source string `json:"source,omitempty"`
	// Handover tells how a leader's restart ran as stop, the others'
	// election, start (runner.exec); empty for a plain command.
	Handover string `json:"handover,omitempty"`
}

// Result is the outcome of a roll.
type Result struct {
	Cluster   string       `json:"cluster"`
	Stage     int          `json:"stage"`
	StageName string       `json:"stageName"`
	Kind      string       `json:"kind"`
	OK        bool         `json:"ok"`
	Steps     []StepResult `json:"steps"`
	Failure   *StepResult  `json:"failure,omitempty"`
	Message   string       `json:"message,omitempty"`
	Leader    string       `json:"leader,omitempty"`
	// StartLeader is the leader found live before the first step; the
	// plan's story assumes the manifest's Leader.
	StartLeader string        `json:"startLeader,omitempty"`
	Elections   int           `json:"elections"`
	Duration    time.Duration `json:"durationNs"`
	Writes      *WriteStats   `json:"writes,omitempty"`
	// MissingWrites are acknowledged canary writes not found at the end.
	MissingWrites []string `json:"missingWrites,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
	// Interrupted: the roll was stopped by its context (a signal), not by a
	// failed check.
	Interrupted bool `json:"interrupted,omitempty"`
	// LeaderMove is the leader-placement step run after the plan's steps,
	// when one was needed.
	LeaderMove *StepResult `json:"leaderMove,omitempty"`
}

// precheckRounds is how many observations the pre-step check gets.
const precheckRounds = 3

type runner struct {
	opts     Options
	from, to *render.Manifest
	hosts    []string // every host the stage involves
	members  map[string]compiler.Member
	fromID   map[string]int
	steps    []compiler.Step
	done     map[int]bool // plan index -> done
	shows    verify.Shows // what the version lets the gate observe
	journal  *journal.Log // read at the start; nil without one
	writer   *Writer
	// outside reports a host that runs outside the committed
	// configuration (reconfig runs only; nil: never known).
	outside func(host string) bool
}

// Validate checks that the manifests describe consecutive stages of one plan.
func (o Options) validate() error {
	if o.From == nil || o.To == nil {
		return errors.New("rollout: need the manifests of stage N-1 and N")
	}
	if o.To.Kind == compiler.KindSettings {
		// A settings roll restarts the hosts of one stage in place.
		if o.To.Stage != o.From.Stage {
			return fmt.Errorf("rollout: a settings roll of stage %d starts from stage %d", o.To.Stage, o.From.Stage)
		}
	} else if o.To.Stage != o.From.Stage+1 {
		return fmt.Errorf("rollout: stages %d and %d are not consecutive", o.From.Stage, o.To.Stage)
	}
	if o.From.Fingerprint != o.To.Fingerprint {
		return fmt.Errorf("rollout: stages %d and %d come from different plans (%s, %s)", o.From.Stage, o.To.Stage, o.From.Fingerprint, o.To.Fingerprint)
	}
	return nil
}

// defaults fills the options left zero, for both runners.
func (o *Options) defaults() {
	if o.StepTimeout <= 0 {
		o.StepTimeout = 2 * time.Minute
	}
	if o.ProbeTimeout <= 0 {
		// Generous: on a loaded machine a healthy JVM may take a second
		// to answer, and a gate round needs every host at once.
		o.ProbeTimeout = 2 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.HandoverWait <= 0 {
		o.HandoverWait = 10 * time.Second
	}
}

func newRunner(o Options) (*runner, error) {
	// From == To: the caller waits for a stage's end state (no step).
	if o.From != o.To || o.From == nil {
		if err := o.validate(); err != nil {
			return nil, err
		}
	}
	o.defaults()
	r := &runner{opts: o, from: o.From, to: o.To, members: map[string]compiler.Member{}, fromID: map[string]int{},
		steps: o.To.Steps, done: map[int]bool{}, shows: verify.ShowsFor(o.To.Version)}
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			r.hosts = append(r.hosts, h)
		}
	}
	for _, m := range o.From.Members {
		r.members[m.Host] = m
		r.fromID[m.Host] = m.ID
	}
	for _, m := range o.To.Members {
		r.members[m.Host] = m // this stage's address and ports win
	}
	for _, h := range o.From.Live {
		add(h)
	}
	for _, h := range o.To.Live {
		add(h)
	}
	for _, s := range r.steps {
		if _, ok := r.members[s.Host]; !ok {
			return nil, fmt.Errorf("rollout: step %s %s: host is in neither stage's membership", s.Action, s.Host)
		}
		add(s.Host)
	}
	sort.Strings(r.hosts)
	return r, nil
}

func (r *runner) member(h string) compiler.Member { return r.members[h] }

// stepOf returns the plan index of the host's step, or -1.
func (r *runner) stepOf(host string) int {
	for i, s := range r.steps {
		if s.Host == host {
			return i
		}
	}
	return -1
}

// expectedID is the id a host runs now by the plan and the steps done.
func (r *runner) expectedID(h string) int {
	if i := r.stepOf(h); i >= 0 && r.done[i] {
		return r.steps[i].ID
	}
	if id, ok := r.fromID[h]; ok {
		return id
	}
	return r.members[h].ID
}

// expectedCfg is 1 when the host runs (or will start with) this stage's
// config, 0 for the previous one.
func (r *runner) expectedCfg(h string) int {
	if i := r.stepOf(h); i >= 0 && (r.done[i] || r.steps[i].Action == compiler.Start) {
		return 1
	}
	if _, ok := r.fromID[h]; !ok {
		return 1
	}
	if sameMembers(r.from.Members, r.to.Members) {
		return 1
	}
	return 0
}

// liveNow lists the hosts that should be running at this point.
func (r *runner) liveNow() []string {
	live := map[string]bool{}
	for _, h := range r.from.Live {
		live[h] = true
	}
	for i, s := range r.steps {
		if !r.done[i] {
			continue
		}
		switch s.Action {
		case compiler.Start:
			live[s.Host] = true
		case compiler.Stop:
			delete(live, s.Host)
		}
	}
	var out []string
	for _, h := range r.hosts {
		if live[h] {
			out = append(out, h)
		}
	}
	return out
}

// markDone marks the steps that done says are done already. Without
// Options.Resume a partly done stage is refused (res.Message, false), so
// that a second run never passes for the first one unnoticed; with it the
// done steps are reported as already done, numbered first. It returns the
// number of steps marked.
func (r *runner) markDone(res *Result, done func(compiler.Step) (bool, string)) (int, bool) {
	var already []string
	source := map[int]string{}
	for i, s := range r.steps {
		if ok, src := done(s); ok {
			source[i] = src
			already = append(already, fmt.Sprintf("%s %s (%s)", s.Action, s.Host, src))
		}
	}
	if len(already) > 0 && !r.opts.Resume {
		res.Message = fmt.Sprintf("stage %d is partly rolled out already (%d of %d steps done: %s): run with --resume to continue from the live state",
			r.to.Stage, len(already), len(r.steps), strings.Join(already, ", "))
		return 0, false
	}
	k := 0
	for i := range r.steps {
		if src, ok := source[i]; ok {
			k++
			r.done[i] = true
			res.Steps[i].K = k
			res.Steps[i].Status = StatusAlreadyDone
			res.Steps[i].Source = src
			r.emit(Event{Kind: EventSkipped, K: k, N: len(r.steps), Step: r.steps[i], Message: "already done"})
		}
	}
	return k, true
}

// isDone tells from an observation whether a step is done.
func (r *runner) isDone(st *state, s compiler.Step) bool {
	o := st.Hosts[s.Host]
	if s.Action == compiler.Stop {
		return o.Down
	}
	if !o.Serving || o.ID != s.ID {
		return false
	}
	if r.to.Kind == compiler.KindReconfigEnable {
		// The membership does not change and nothing a server answers
		// tells reconfigEnabled: the journal records the restart.
		return r.journal.Find(r.to.Fingerprint, r.to.Stage, s.Host) != nil
	}
	if r.to.Kind == compiler.KindSettings {
		// Nor do all settings show (settings.extra), and the stage's
		// own earlier restarts are not this one: the journal records
		// the restart onto these settings.
		return r.journal.FindSettings(r.to.Fingerprint, r.to.Stage, s.Host, r.to.Spec) != nil
	}
	if r.shows.Membership {
		return o.Config == cfgTo
	}
	// 3.4 cannot show the config a server runs. A started host did not run
	// before, and a renamed one shows its new id; any other restart is done
	// only if the journal records it.
	if s.Action == compiler.Start || (s.FromID != nil && *s.FromID != s.ID) {
		return true
	}
	return r.journal.Find(r.to.Fingerprint, r.to.Stage, s.Host) != nil
}

// doneSource says how isDone knew.
func (r *runner) doneSource(s compiler.Step) string {
	if (!r.shows.Membership || r.to.Kind == compiler.KindReconfigEnable || r.to.Kind == compiler.KindSettings) && s.Action == compiler.Restart && (s.FromID == nil || *s.FromID == s.ID) {
		return verify.SourceJournal
	}
	return "observed"
}

// servers are the client addresses of the hosts that should run now.
func (r *runner) servers() []string {
	var out []string
	for _, h := range r.liveNow() {
		m := r.members[h]
		out = append(out, net.JoinHostPort(m.Address, strconv.Itoa(m.ClientPort)))
	}
	return out
}

// record writes a gated step to the rollout journal. A journal that cannot
// be written does not undo the step; it is a warning, because on 3.4 the
// step then has to be acknowledged by hand.
func (r *runner) record(ctx context.Context, s compiler.Step, res *Result) {
	if r.opts.NoJournal {
		return
	}
	rec := journal.Record{Fingerprint: r.to.Fingerprint, Stage: r.to.Stage, StageName: r.to.Name, Action: string(s.Action),
		Host: s.Host, ID: s.ID, FromID: s.FromID, At: time.Now().UTC(), By: journal.ByRoll}
	if r.to.Kind == compiler.KindSettings {
		rec.Spec = r.to.Spec
	}
	if err := journal.Append(ctx, r.servers(), r.to.Cluster, r.opts.ProbeTimeout, rec); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("step %s %s is done but not recorded: %v", s.Action, s.Host, err))
		return
	}
	if r.journal == nil {
		r.journal = &journal.Log{Cluster: r.to.Cluster}
	}
	r.journal.Records = append(r.journal.Records, rec)
}

// next picks the next step by the plan's own rule (compiler.NextStep),
// from the live leader observed now.
func (r *runner) next(remaining []int, st *state) (int, bool) {
	cur := -1
	if h, ok := st.Hosts[st.Leader]; ok {
		cur = h.ID
	}
	if cur < 0 && st.Leader != "" {
		cur = r.expectedID(st.Leader)
	}
	return compiler.NextStep(r.steps, remaining, r.to.LeaderRule, st.Leader, cur)
}

func (r *runner) emit(e Event) {
	if r.opts.Progress != nil {
		r.opts.Progress(e)
	}
}

func (r *runner) env(s compiler.Step) StepEnv {
	m := r.members[s.Host]
	return StepEnv{Action: string(s.Action), Host: s.Host, Address: m.Address, MyID: s.ID,
		Stage: r.to.Stage, Cluster: r.to.Cluster, Dir: r.opts.Dir, Outside: r.outside != nil && r.outside(s.Host)}
}

// Run rolls stage To on the live ensemble. The error is for unusable input
// or a canary writer that cannot start; a roll that stops is a Result that
// is not OK, with Failure naming the host and why.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.To != nil && IsReconfigStage(o.To.Kind) {
		return runReconfig(ctx, o, nil)
	}
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	if r.opts.Exec == nil {
		return nil, errors.New("rollout: no executor (--exec)")
	}
	return r.withCanary(ctx, o, r.servers(), func(res *Result) { r.roll(ctx, res) })
}

// withCanary runs roll with the canary writer of o (its own, started on
// servers, when o.Canary names one), times the roll and adds the writes'
// figures; its own writer's acknowledged writes are checked at the end.
// The rolling and the reconfig runner share it.
func (r *runner) withCanary(ctx context.Context, o Options, servers []string, roll func(*Result)) (*Result, error) {
	res := &Result{Cluster: r.to.Cluster, Stage: r.to.Stage, StageName: r.to.Name, Kind: r.to.Kind}
	start := time.Now()
	r.writer = o.Writer
	ownWriter := false
	if r.writer == nil && o.Canary != "" {
		w, err := StartWriter(ctx, servers, o.Canary, WriterOptions{})
		if err != nil {
			return nil, err
		}
		r.writer, ownWriter = w, true
	}
	roll(res)
	res.Duration = time.Since(start)
	res.Interrupted = ctx.Err() != nil
	if r.writer != nil {
		ws := r.writer.Stats(start, time.Now())
		res.Writes = &ws
	}
	// The canary's check and cleanup run even when the roll was interrupted:
	// an operator's ^C must not leave the question "was a write lost?"
	// unanswered, nor the canary's znodes behind.
	cctx := context.WithoutCancel(ctx)
	if ownWriter {
		missing, err := r.writer.Check(cctx, 30*time.Second)
		switch {
		case err != nil:
			res.Warnings = append(res.Warnings, "canary: could not check the acknowledged writes: "+err.Error())
		case len(missing) > 0:
			res.MissingWrites = missing
			res.OK = false
			res.Message = fmt.Sprintf("%d acknowledged canary writes are missing under %s", len(missing), o.Canary)
		default:
			if err := r.writer.Cleanup(cctx, 30*time.Second); err != nil {
				res.Warnings = append(res.Warnings, err.Error())
			}
		}
		r.writer.Close()
	}
	return res, nil
}

func (r *runner) roll(ctx context.Context, res *Result) {
	n := len(r.steps)
	for i, s := range r.steps {
		res.Steps = append(res.Steps, StepResult{Plan: i + 1, Action: string(s.Action), Host: s.Host, ID: s.ID,
			FromID: s.FromID, Status: StatusNotRun, PlannedMargin: s.Margin})
	}
	if n == 0 {
		res.OK = true
		res.Message = fmt.Sprintf("stage %d has no steps", r.to.Stage)
		return
	}
	st := r.observe(ctx)
	res.StartLeader = st.Leader
	if r.to.Leader != "" && st.Leader != "" && st.Leader != r.to.Leader {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s leads, not %s as the plan expects: the steps run in the order the plan shows for that starting leader (its step moves instead), ending with %s leading",
			st.Leader, r.to.Leader, r.predictAfter(st.Leader)))
	}
	if !r.opts.NoJournal {
		// Through the serving hosts only: a host that is down would cost a
		// session timeout each.
		var serving []string
		for _, h := range r.hosts {
			if o := st.Hosts[h]; o.Serving {
				serving = append(serving, o.Addr)
			}
		}
		if len(serving) > 0 {
			l, err := journal.Read(ctx, serving, r.to.Cluster, r.opts.ProbeTimeout)
			if err != nil {
				res.Warnings = append(res.Warnings, "rollout journal not read: "+err.Error())
			}
			r.journal = l
		}
	}
	k, ok := r.markDone(res, func(s compiler.Step) (bool, string) { return r.isDone(st, s), r.doneSource(s) })
	if !ok {
		return
	}
	for {
		var remaining []int
		for i := range r.steps {
			if !r.done[i] {
				remaining = append(remaining, i)
			}
		}
		if len(remaining) == 0 {
			break
		}
		// The pre-step check is repeated a few times before it refuses, so
		// that one slow answer does not stop a healthy roll; a host that is
		// really down stays down.
		var i int
		var isLeader bool
		var refusal string
		var evidence []string
		for attempt := 1; ; attempt++ {
			if st == nil {
				st = r.observe(ctx)
			}
			i, isLeader = r.next(remaining, st)
			refusal, evidence = r.precheck(st, r.steps[i], &res.Steps[i])
			if refusal == "" || attempt == precheckRounds || ctx.Err() != nil {
				break
			}
			st = nil
			time.Sleep(2 * r.opts.Poll)
		}
		k++
		sr := &res.Steps[i]
		sr.K = k
		sr.WasLeader = isLeader || st.Leader == r.steps[i].Host
		if !r.step(ctx, st, i, k, n, sr, refusal, evidence) {
			res.Failure = sr
			res.Message = fmt.Sprintf("step %d/%d %s %s: %s", k, n, sr.Action, sr.Host, sr.Reason)
			r.finish(res)
			return
		}
		res.Elections += sr.Elections
		r.record(ctx, r.steps[i], res)
		st = nil
	}
	res.OK = true
	r.placeLeader(ctx, res)
	r.finish(res)
}

// finish records the leader at the end and a placement warning.
func (r *runner) finish(res *Result) {
	sort.SliceStable(res.Steps, func(a, b int) bool {
		ka, kb := res.Steps[a].K, res.Steps[b].K
		if ka == 0 || kb == 0 {
			return ka != 0 && kb == 0
		}
		return ka < kb
	})
	st := r.observe(context.Background())
	res.Leader = st.Leader
	if st.Leader != "" && len(r.to.LeaderDatacenters) > 0 {
		if dc := r.dcOf(st.Leader); dc != r.to.LeaderDatacenters[0] {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the leader %s is in %s, not in the preferred %s: restart it to move the leadership (one election)",
				st.Leader, dc, r.to.LeaderDatacenters[0]))
		}
	}
}

func (r *runner) dcOf(h string) string {
	if d := r.to.Datacenters[h]; d != "" {
		return d
	}
	if d := r.from.Datacenters[h]; d != "" {
		return d
	}
	return r.members[h].Datacenter
}

// step runs one step of the rolling runner: the pre-step check (run by the
// caller; a refusal touches nothing), the command, the gate.
func (r *runner) step(ctx context.Context, st *state, i, k, n int, sr *StepResult, refusal string, evidence []string) bool {
	s := r.steps[i]
	if refusal != "" {
		sr.Started = time.Now()
		sr.Status, sr.Reason, sr.Evidence = StatusRefused, refusal, evidence
		r.stats(sr)
		r.emitFailed(k, n, s, sr)
		return false
	}
	return r.runStep(ctx, st, k, n, s, sr, stepHooks{
		exec: func(ctx, sctx context.Context) error { return r.exec(ctx, sctx, st, s, sr) },
		ran:  func() { r.done[i] = true },
		gate: func(ctx context.Context) (*state, []string) { return r.waitGate(ctx, s) },
	})
}

// stepHooks are what the rolling and the reconfig runner do differently
// around one host's command: how it runs, what the runner knows once it
// ran, the gate that must then pass.
type stepHooks struct {
	exec func(ctx, sctx context.Context) error
	ran  func()
	gate func(ctx context.Context) (*state, []string)
}

// runStep runs one host step under the step timeout (ctx is the roll's,
// for what must finish even when the step's time ran out): the command,
// then the gate; it times both, counts the elections by the leader's
// epoch and reports the step's events.
func (r *runner) runStep(ctx context.Context, st *state, k, n int, s compiler.Step, sr *StepResult, h stepHooks) bool {
	sr.Started = time.Now()
	epochBefore := leaderEpoch(st)
	fail := func(reason string, evidence []string) bool {
		sr.Status, sr.Reason, sr.Evidence = StatusFailed, reason, evidence
		r.stats(sr)
		r.emitFailed(k, n, s, sr)
		return false
	}
	r.emitStart(k, n, s, sr)
	sctx, cancel := context.WithDeadline(ctx, sr.Started.Add(r.opts.StepTimeout))
	defer cancel()
	err := h.exec(ctx, sctx)
	sr.CommandTime = time.Since(sr.Started)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("interrupted: %w", err)
		case sctx.Err() != nil:
			err = fmt.Errorf("command did not finish within the step timeout %s: %w", r.opts.StepTimeout, err)
		}
		return fail(err.Error(), nil)
	}
	h.ran()
	gst, problems := h.gate(sctx)
	sr.GateTime = time.Since(sr.Started) - sr.CommandTime
	if len(problems) > 0 {
		why := fmt.Sprintf("gate not passed within %s", r.opts.StepTimeout)
		if ctx.Err() != nil {
			why = "interrupted before the gate passed"
		}
		return fail(why+": "+mainProblem(problems, s.Host), problems)
	}
	sr.Status, sr.LeaderAfter = StatusDone, gst.Leader
	sr.Elections = elections(epochBefore, gst)
	r.stats(sr)
	r.emitDone(k, n, s, sr)
	return true
}

// emitStart, emitDone and emitFailed report a step's events.
func (r *runner) emitStart(k, n int, s compiler.Step, sr *StepResult) {
	r.emit(Event{Kind: EventStart, K: k, N: n, Step: s, Leader: sr.WasLeader})
}

func (r *runner) emitDone(k, n int, s compiler.Step, sr *StepResult) {
	r.emit(Event{Kind: EventDone, K: k, N: n, Step: s, Leader: sr.WasLeader, Elapsed: sr.Duration,
		Message: fmt.Sprintf("gate %s, leader %s", sr.GateTime.Round(time.Millisecond), sr.LeaderAfter)})
}

func (r *runner) emitFailed(k, n int, s compiler.Step, sr *StepResult) {
	r.emit(Event{Kind: EventFailed, K: k, N: n, Step: s, Leader: sr.WasLeader, Elapsed: sr.Duration, Message: sr.Reason})
}

// stats closes a step's timing and, under a writer, its write figures.
func (r *runner) stats(sr *StepResult) {
	sr.Duration = time.Since(sr.Started)
	if r.writer != nil {
		ws := r.writer.Stats(sr.Started, time.Now())
		sr.Writes = &ws
	}
}

// precheck returns why the step must not run now, or "".
func (r *runner) precheck(st *state, s compiler.Step, sr *StepResult) (string, []string) {
	var ev []string
	var bad []string
	for _, h := range r.liveNow() {
		o := st.Hosts[h]
		ev = append(ev, fmt.Sprintf("%s: %s", h, o.describe()))
		if h == s.Host {
			continue
		}
		switch {
		case !o.Serving:
			bad = append(bad, fmt.Sprintf("%s is %s", h, o.Err))
		case r.shows.Membership && o.Config == cfgOther:
			bad = append(bad, fmt.Sprintf("%s runs a configuration of neither stage %d nor %d", h, r.from.Stage, r.to.Stage))
		}
	}
	m, rule := r.liveMargin(st, s)
	sr.LiveMargin, sr.MarginRule = &m, rule
	if m < s.Margin {
		bad = append([]string{fmt.Sprintf("the live margin of this step would be %d, below the planned %d (%s)", m, s.Margin, rule)}, bad...)
	}
	if len(bad) == 0 {
		return "", nil
	}
	return "refused before the step: " + strings.Join(bad, "; "), ev
}

// waitGate observes until the gate passes or ctx ends; it returns the last
// observation and the problems that kept the gate closed.
func (r *runner) waitGate(ctx context.Context, s compiler.Step) (*state, []string) {
	var lastSt *state
	var last []string
	for {
		st := r.observe(ctx)
		if cutShort(ctx) && last != nil {
			// The step's deadline cut this observation short: its probes
			// say "timeout" for hosts that answered, or refused, in time
			// before. The verdict is the last whole observation's (seen:
			// a stopped host reported as "timeout", not "not running").
			return lastSt, last
		}
		problems := r.gate(st, s)
		if len(problems) == 0 {
			return st, nil
		}
		lastSt, last = st, problems
		select {
		case <-ctx.Done():
			return st, problems
		case <-time.After(r.opts.Poll):
		}
	}
}

// cutShort reports whether ctx has ended or reached its deadline. A probe's
// own context with the same deadline has its own timer, which can fire a
// moment before ctx's: its "timeout" then arrives while ctx.Err() is still
// nil (seen: a stopped 3.4.6 host reported as "timeout", not "not
// running", on a loaded machine).
func cutShort(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// gate checks the live state after step s: a stopped host is down, and the
// hosts that should run pass the verifier's one evaluation (verify.Evaluate)
// of what they should run now: each serves in its role's mode under the id
// and with the membership the steps done so far give it, one leader, in a
// datacenter allowed to lead, whose mntr shows exactly the other live hosts
// as synced learners.
func (r *runner) gate(st *state, s compiler.Step) []string {
	var problems []string
	if s.Action == compiler.Stop {
		if o := st.Hosts[s.Host]; !o.Down {
			problems = append(problems, fmt.Sprintf("%s still answers on %s after stop (%s)", s.Host, o.Addr, o.describe()))
		}
	}
	exp, probes := r.expectation(st)
	for _, c := range verify.Evaluate(exp, probes).Checks {
		if c.Status != verify.Fail && c.Status != verify.Unknown {
			continue
		}
		switch {
		case len(c.Problems) > 0:
			problems = append(problems, c.Problems...)
		case c.Host != "":
			problems = append(problems, c.Host+": "+c.Message)
		default:
			problems = append(problems, c.Message)
		}
	}
	return problems
}

// expectation is what the hosts that should run now should show, by the
// steps done so far.
func (r *runner) expectation(st *state) (verify.Expectation, []*verify.Probe) {
	dcs := map[string]string{}
	for _, h := range r.hosts {
		dcs[h] = r.dcOf(h)
	}
	// A writer may be running: zxids differ by whatever it wrote meanwhile.
	exp := verify.Expectation{Version: r.to.Version, LeaderDatacenters: r.to.LeaderDatacenters, Datacenters: dcs, ZxidTolerance: 1 << 40}
	var probes []*verify.Probe
	for _, h := range r.liveNow() {
		m := r.members[h]
		m.ID = r.expectedID(h)
		x := verify.Expected{Member: m, Membership: r.from.Members}
		if r.expectedCfg(h) == 1 {
			x.Membership = r.to.Members
		}
		if !r.shows.Membership {
			x.Source, x.Record = verify.SourceRunner, r.runsText(h)
		}
		exp.Hosts = append(exp.Hosts, x)
		p := st.Hosts[h].Probe
		if p == nil {
			p = &verify.Probe{Addr: st.Hosts[h].Addr, SrvrErr: errors.New(st.Hosts[h].describe())}
		}
		probes = append(probes, p)
	}
	return exp, probes
}

// runsText says what the runner knows a host runs, for 3.4's membership.
func (r *runner) runsText(h string) string {
	if i := r.stepOf(h); i >= 0 && r.done[i] {
		return fmt.Sprintf("%s onto stage %d's config in this roll", r.steps[i].Action, r.to.Stage)
	}
	if r.expectedCfg(h) == 1 {
		return fmt.Sprintf("runs stage %d's config (the same membership as stage %d)", r.to.Stage, r.from.Stage)
	}
	return fmt.Sprintf("not stepped yet: runs stage %d's config", r.from.Stage)
}

func sameMembers(a, b []compiler.Member) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(ms []compiler.Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, fmt.Sprintf("%d=%s:%d:%d:%s", m.ID, m.Address, m.QuorumPort, m.ElectPort, m.Role))
		}
		sort.Strings(out)
		return out
	}
	ka, kb := key(a), key(b)
	for i := range ka {
		if ka[i] != kb[i] {
			return false
		}
	}
	return true
}

// mainProblem is the problem to name first: the stepped host's own, if any.
func mainProblem(problems []string, host string) string {
	for _, p := range problems {
		if strings.HasPrefix(p, host+" ") || strings.HasPrefix(p, host+":") {
			return p
		}
	}
	return problems[0]
}
