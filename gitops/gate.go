package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cueerrors "cuelang.org/go/cue/errors"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/verify"
)

// GateOptions configure Gate.
type GateOptions struct {
	Repo string
	Dir  string
	// Base is the revision the pull request merges into (main, origin/main).
	Base string
	// Head is the pull request's revision; empty: the working tree.
	Head string
	// Offline skips check 3 (the live ensemble).
	Offline bool
	// Verify tunes the live check; Wait > 0 retries it until it passes or
	// Wait has passed (an ensemble that was just rolled may still be syncing).
	Verify verify.Options
	Wait   time.Duration
}

// Gate check names, in order.
const (
	GateRendered = "rendered"
	GateSequence = "sequence"
	GateLive     = "live"
)

// Gate check statuses. Skipped is only ever the live check with --offline,
// or a check that cannot run because an earlier one failed; it is shown as
// such, never as a pass.
const (
	GatePass    = "pass"
	GateFail    = "fail"
	GateSkipped = "skipped"
)

// GateCheck is one of the three checks.
type GateCheck struct {
	Name    string   `json:"name"`
	Title   string   `json:"title"`
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
}

// GateResult is the gate's verdict with its evidence.
type GateResult struct {
	Cluster    string `json:"cluster"`
	Dir        string `json:"dir"`
	Base       string `json:"base"`
	BaseCommit string `json:"baseCommit"`
	Head       string `json:"head"` // the revision, or "working tree"
	HeadCommit string `json:"headCommit,omitempty"`
	// Stages: -1 when the side has no rendered stage.
	BaseStage       int    `json:"baseStage"`
	BaseFingerprint string `json:"baseFingerprint,omitempty"`
	HeadStage       int    `json:"headStage"`
	HeadFingerprint string `json:"headFingerprint,omitempty"`
	// PlanFingerprint is what the head's spec compiles to.
	PlanFingerprint string         `json:"planFingerprint,omitempty"`
	HeadStageName   string         `json:"headStageName,omitempty"`
	Offline         bool           `json:"offline"`
	Checks          []GateCheck    `json:"checks"`
	Verify          *verify.Report `json:"verify,omitempty"`
	// VerifiedStage is the stage check 3 verified live (-1: none).
	VerifiedStage int `json:"verifiedStage"`
	// Warnings are the head spec's and its plan's (Warnings); they do not
	// fail the gate.
	Warnings []string `json:"warnings,omitempty"`
}

// OK reports whether every check passed, the live check excepted when it
// was skipped with --offline.
func (r *GateResult) OK() bool {
	for _, c := range r.Checks {
		if c.Status == GateFail || (c.Status == GateSkipped && !(c.Name == GateLive && r.Offline)) {
			return false
		}
	}
	return len(r.Checks) == 3
}

// Gate runs the pull request checks. The error is for unusable input (not a
// repository, unknown revision); failed checks are in the result.
func Gate(ctx context.Context, opts GateOptions) (*GateResult, error) {
	if opts.Base == "" {
		return nil, inputErr("gate needs --base")
	}
	rp, err := openRepo(opts.Repo, opts.Dir)
	if err != nil {
		return nil, err
	}
	baseCommit, err := rp.resolve(opts.Base)
	if err != nil {
		return nil, err
	}
	_, baseMan, err := readRendered(baseCommit, rp.renderedPath())
	if err != nil {
		return nil, err
	}
	res := &GateResult{Dir: rp.rel, Base: opts.Base, BaseCommit: baseCommit.Hash.String(),
		BaseStage: -1, HeadStage: -1, VerifiedStage: -1, Offline: opts.Offline, Head: "working tree"}
	if baseMan != nil {
		res.BaseStage, res.BaseFingerprint = baseMan.Stage, baseMan.Fingerprint
	}

	// The head: the spec and the rendered folder, from a revision or disk.
	var specName string
	var spec []byte
	var headFiles map[string][]byte
	if opts.Head != "" {
		hc, err := rp.resolve(opts.Head)
		if err != nil {
			return nil, err
		}
		res.Head, res.HeadCommit = opts.Head, hc.Hash.String()
		specName = opts.Head + ":" + rp.rel + "/cluster.cue"
		f, err := hc.File(rp.rel + "/cluster.cue")
		if err != nil {
			return nil, inputErr("%s: %v", specName, err)
		}
		s, err := f.Contents()
		if err != nil {
			return nil, err
		}
		spec = []byte(s)
		t, err := subtree(hc, rp.renderedPath())
		if err != nil {
			return nil, err
		}
		if headFiles, err = readTreeFiles(t); err != nil {
			return nil, err
		}
	} else {
		specName = schema.SpecFile(opts.Dir)
		if spec, err = os.ReadFile(specName); err != nil {
			return nil, inputErr("%v", err)
		}
		if headFiles, err = readDirFiles(filepath.Join(opts.Dir, RenderedDir)); err != nil {
			return nil, err
		}
	}

	// Check 1: the rendered files are what the spec compiles to.
	c1 := GateCheck{Name: GateRendered, Title: "rendered files equal what the spec compiles to"}
	var plan *compiler.Plan
	var cluster *schema.Cluster
	headMan, manErr := parseManifest(res.Head+":"+rp.renderedPath()+"/"+render.ManifestFile, headFiles)
	if headMan != nil {
		res.HeadStage, res.HeadFingerprint, res.HeadStageName = headMan.Stage, headMan.Fingerprint, headMan.Name
	}
	cl, specWarns, err := schema.LoadBytes(specName, spec)
	if err == nil {
		cluster = cl
		res.Cluster = cl.Name
		plan, err = compiler.Compile(cl)
		res.Warnings = Warnings(rp.rel, specWarns, plan)
	}
	switch {
	case err != nil:
		c1.Status, c1.Message = GateFail, "the spec does not compile"
		c1.Details = strings.Split(strings.TrimSpace(cueerrors.Details(err, nil)), "\n")
	case manErr != nil:
		c1.Status, c1.Message = GateFail, manErr.Error()
	case headMan == nil:
		c1.Status, c1.Message = GateFail, fmt.Sprintf("%s/%s is missing: the head has no rendered stage", rp.renderedPath(), render.ManifestFile)
	case headMan.Stage < 0 || headMan.Stage >= len(plan.Stages):
		c1.Status, c1.Message = GateFail, fmt.Sprintf("%s/%s names stage %d, but plan %s has stages 0..%d", rp.renderedPath(), render.ManifestFile, headMan.Stage, plan.Fingerprint, len(plan.Stages)-1)
	default:
		res.PlanFingerprint = plan.Fingerprint
		want, err := render.StageFiles(cluster, plan, headMan.Stage)
		if err != nil {
			return nil, err
		}
		diffs := compareFiles(filesMap(want), headFiles)
		if len(diffs) == 0 {
			c1.Status = GatePass
			c1.Message = fmt.Sprintf("%d files under %s are what %s/cluster.cue compiles to for stage %02d (plan %s)", len(want), rp.renderedPath(), rp.rel, headMan.Stage, plan.Fingerprint)
		} else {
			c1.Status = GateFail
			c1.Message = fmt.Sprintf("%d file(s) under %s differ from what %s/cluster.cue compiles to for stage %02d (plan %s)", len(diffs), rp.renderedPath(), rp.rel, headMan.Stage, plan.Fingerprint)
			for _, d := range diffs {
				c1.Details = append(c1.Details, d.Status+" "+rp.renderedPath()+"/"+d.Path)
			}
			if headMan.Fingerprint != plan.Fingerprint {
				c1.Details = append(c1.Details, fmt.Sprintf("%s names plan %s; the spec compiles to plan %s: re-run zkstage stage", render.ManifestFile, headMan.Fingerprint, plan.Fingerprint))
			}
		}
	}
	if res.PlanFingerprint == "" && plan != nil {
		res.PlanFingerprint = plan.Fingerprint
	}
	res.Checks = append(res.Checks, c1)

	// Check 2: the head is the base's stage plus one, of the same plan.
	c2 := GateCheck{Name: GateSequence, Title: "the head's stage follows the base's by one, same plan"}
	switch {
	case headMan == nil:
		c2.Status, c2.Message = GateFail, "the head has no rendered stage"
	case baseMan == nil:
		if headMan.Stage == 0 {
			c2.Status = GatePass
			c2.Message = fmt.Sprintf("%s has no rendered stage; the head adopts stage 00, the ensemble as it runs today (plan %s)", opts.Base, headMan.Fingerprint)
		} else {
			c2.Status = GateFail
			c2.Message = fmt.Sprintf("%s has no rendered stage, so the first stage to merge is stage 00 (the ensemble as it runs today); the head is stage %02d", opts.Base, headMan.Stage)
		}
	case baseMan.Fingerprint == headMan.Fingerprint:
		switch {
		case headMan.Stage == baseMan.Stage+1:
			c2.Status = GatePass
			c2.Message = fmt.Sprintf("base stage %02d -> head stage %02d, plan %s", baseMan.Stage, headMan.Stage, headMan.Fingerprint)
		case headMan.Stage == baseMan.Stage && headMan.Spec != baseMan.Spec:
			// zkstage stage's settings commit: the stage the base
			// is at, rendered from a spec with other settings.
			c2.Status = GatePass
			c2.Message = fmt.Sprintf("new settings: base and head are both stage %02d of plan %s, rendered from specs %s and %s", headMan.Stage, headMan.Fingerprint, baseMan.Spec, headMan.Spec)
		case headMan.Stage <= baseMan.Stage:
			c2.Status = GateFail
			c2.Message = fmt.Sprintf("the head is stage %02d but %s is already at stage %02d (plan %s): nothing to merge", headMan.Stage, opts.Base, baseMan.Stage, headMan.Fingerprint)
		default:
			c2.Status = GateFail
			c2.Message = fmt.Sprintf("the head is stage %02d but %s is at stage %02d (plan %s): stage %02d must merge first", headMan.Stage, opts.Base, baseMan.Stage, headMan.Fingerprint, baseMan.Stage+1)
		}
	default:
		// A changed spec: the head may only re-base the plan, keeping the
		// ensemble the base describes; the next stages then follow by one.
		if sameEnsemble(baseMan, headMan) {
			c2.Status = GatePass
			c2.Message = fmt.Sprintf("re-plan: base stage %02d of plan %s and head stage %02d of plan %s describe the same members and live hosts", baseMan.Stage, baseMan.Fingerprint, headMan.Stage, headMan.Fingerprint)
		} else {
			c2.Status = GateFail
			c2.Message = fmt.Sprintf("the plan changed (base stage %02d of plan %s, head stage %02d of plan %s) and the head changes the ensemble: a re-planned stack must first merge the stage that matches the base's ensemble (zkstage stage)", baseMan.Stage, baseMan.Fingerprint, headMan.Stage, headMan.Fingerprint)
		}
	}
	res.Checks = append(res.Checks, c2)

	// Check 3: the live ensemble is the base's stage.
	c3 := GateCheck{Name: GateLive, Title: "the live ensemble verifies as the base's stage"}
	var target *render.Manifest
	switch {
	case baseMan != nil:
		target = baseMan
	case headMan != nil && headMan.Stage == 0 && c1.Status == GatePass:
		target = headMan // adoption: stage 0 is what runs today
	}
	switch {
	case opts.Offline:
		c3.Status, c3.Message = GateSkipped, "offline: the live ensemble was not checked"
	case target == nil:
		c3.Status, c3.Message = GateSkipped, "no stage to verify: the base has no rendered stage and the head is not a valid stage 00"
	default:
		var rep *verify.Report
		if opts.Wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, opts.Wait)
			rep, err = verify.RunWait(wctx, target, opts.Verify, time.Second, nil)
			cancel()
		} else {
			rep, err = verify.Run(ctx, target, opts.Verify)
		}
		res.VerifiedStage = target.Stage
		if err != nil {
			c3.Status, c3.Message = GateFail, fmt.Sprintf("cannot verify stage %02d: %v", target.Stage, err)
			break
		}
		res.Verify = rep
		if rep.OK() {
			c3.Status = GatePass
			c3.Message = fmt.Sprintf("the live ensemble verifies as stage %02d %s", target.Stage, target.Name)
			if rep.Leader != "" {
				c3.Message += " (leader " + rep.Leader + ")"
			}
		} else {
			c3.Status = GateFail
			c3.Message = fmt.Sprintf("the live ensemble does not verify as stage %02d %s: roll that stage out first", target.Stage, target.Name)
			for _, p := range rep.Problems() {
				c3.Details = append(c3.Details, fmt.Sprintf("%s %s: %s", p.Status, p.Title(), p.Message))
			}
		}
	}
	res.Checks = append(res.Checks, c3)
	return res, nil
}

func sameEnsemble(a, b *render.Manifest) bool {
	ka, kb := ensembleKey(a.Members, a.Live), ensembleKey(b.Members, b.Live)
	if len(ka.Members) != len(kb.Members) || len(ka.Live) != len(kb.Live) {
		return false
	}
	for i := range ka.Members {
		if ka.Members[i] != kb.Members[i] {
			return false
		}
	}
	for i := range ka.Live {
		if ka.Live[i] != kb.Live[i] {
			return false
		}
	}
	return true
}

// compareFiles lists the files of got that are missing, changed or extra
// compared with want, in path order.
func compareFiles(want, got map[string][]byte) []FileChange {
	var out []FileChange
	for _, d := range render.CompareFiles(want, got) {
		out = append(out, FileChange{d.Path, d.Status})
	}
	return out
}
