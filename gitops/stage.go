package gitops

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// DefaultBranchPrefix starts every stage branch: <prefix><cluster>/NN-<stage>.
const DefaultBranchPrefix = "zkstage/"

// StageOptions configure Stage.
type StageOptions struct {
	// Repo is the repository; empty: the one holding Dir.
	Repo string
	// Dir is the cluster folder (holding cluster.cue).
	Dir string
	// Base is the branch the stages build on; empty: the branch HEAD is on.
	Base string
	// BranchPrefix defaults to DefaultBranchPrefix.
	BranchPrefix string
	// Author; nil: git config (repository, then global), then DefaultAuthor.
	Author *Signature
	// Push, when set, is the remote every stage branch is pushed to.
	Push string
	// PushAuth is the token for an http(s) remote; nil: none.
	PushAuth *PushAuth
	// Now is the commit time source (default time.Now).
	Now func() time.Time
	// SpecWarnings are the loader's warnings about the spec; with the
	// plan's they are listed in every stage's pull request.
	SpecWarnings []schema.Warning
}

// Branch actions.
const (
	Created = "created"
	Updated = "updated"
	Kept    = "kept"
)

// Branch is one stage branch and what Stage did to it.
type Branch struct {
	Name   string `json:"name"`
	Stage  int    `json:"stage"`
	Title  string `json:"title"`
	Entry  string `json:"entry"` // next | adopt | replan | settings
	Action string `json:"action"`
	Commit string `json:"commit"`
	Parent string `json:"parent"`
	// Previous is the commit the branch pointed to before an update; it
	// stays in the object store (and in the remote's history if pushed).
	Previous string `json:"previous,omitempty"`
	// Changed lists, for an update, the rendered files that differ from the
	// previous commit ("" when only the parent moved).
	Changed []FileChange `json:"changed,omitempty"`
	Reason  string       `json:"reason,omitempty"`
}

// StageResult is what Stage did.
type StageResult struct {
	Cluster     string `json:"cluster"`
	Dir         string `json:"dir"` // cluster folder, repository-relative
	Fingerprint string `json:"fingerprint"`
	Base        string `json:"base"`
	BaseCommit  string `json:"baseCommit"`
	// BaseStage is the base's stage (-1: no rendered files);
	// BaseFingerprint the plan it belongs to.
	BaseStage       int       `json:"baseStage"`
	BaseFingerprint string    `json:"baseFingerprint,omitempty"`
	Author          Signature `json:"author"`
	AuthorSource    string    `json:"authorSource"`
	Branches        []Branch  `json:"branches"`
	// Merged names existing branches of stages the base already holds;
	// they are left alone.
	Merged []string `json:"merged,omitempty"`
	// Stale names existing branches under this cluster's prefix that the
	// plan no longer has; nothing is deleted.
	Stale  []string `json:"stale,omitempty"`
	Pushed []string `json:"pushed,omitempty"`
	Remote string   `json:"remote,omitempty"`
}

// BranchName is the branch of stage k.
func BranchName(prefix, cluster string, k int, stage string) string {
	if prefix == "" {
		prefix = DefaultBranchPrefix
	}
	return fmt.Sprintf("%s%s/%02d-%s", prefix, cluster, k, stage)
}

// Stage writes the plan's remaining stages as stacked branches on top of the
// base branch. See the package documentation and docs/gitops.md.
func Stage(ctx context.Context, c *schema.Cluster, p *compiler.Plan, opts StageOptions) (*StageResult, error) {
	if opts.BranchPrefix == "" {
		opts.BranchPrefix = DefaultBranchPrefix
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	rp, err := openRepo(opts.Repo, opts.Dir)
	if err != nil {
		return nil, err
	}
	if dirty, err := rp.dirty(); err != nil {
		return nil, err
	} else if len(dirty) > 0 {
		return nil, &InputError{Msg: fmt.Sprintf("%s has uncommitted changes; commit or discard them first:\n  %s", rp.rel, strings.Join(dirty, "\n  ")), Paths: dirty}
	}
	head, err := rp.r.Head()
	if err != nil {
		return nil, inputErr("repository %s has no commit yet: commit %s/cluster.cue first", rp.root, rp.rel)
	}
	base := opts.Base
	if base == "" {
		if !head.Name().IsBranch() {
			return nil, inputErr("HEAD is detached: name the base branch with --base")
		}
		base = head.Name().Short()
	}
	clusterPrefix := BranchName(opts.BranchPrefix, c.Name, 0, "")
	clusterPrefix = clusterPrefix[:strings.LastIndex(clusterPrefix, "/")+1]
	if strings.HasPrefix(base, clusterPrefix) {
		return nil, inputErr("base %s is a stage branch (prefix %s): name the base branch with --base", base, clusterPrefix)
	}
	baseRef, err := rp.r.Reference(plumbing.NewBranchReferenceName(base), true)
	if err != nil {
		return nil, inputErr("base branch %s: %v", base, err)
	}
	baseCommit, err := rp.r.CommitObject(baseRef.Hash())
	if err != nil {
		return nil, err
	}
	headCommit, err := rp.r.CommitObject(head.Hash())
	if err != nil {
		return nil, err
	}
	clusterTree, err := subtree(headCommit, rp.rel)
	if err != nil {
		return nil, err
	}
	if clusterTree == nil {
		return nil, inputErr("%s is not committed on HEAD: commit %s/cluster.cue first", rp.rel, rp.rel)
	}
	baseFiles, baseMan, err := readRendered(baseCommit, rp.renderedPath())
	if err != nil {
		return nil, err
	}

	res := &StageResult{Cluster: c.Name, Dir: rp.rel, Fingerprint: p.Fingerprint, Base: base,
		BaseCommit: baseCommit.Hash.String(), BaseStage: -1, Branches: []Branch{}}
	start, entry := 0, EntryAdopt
	if baseMan != nil {
		res.BaseStage, res.BaseFingerprint = baseMan.Stage, baseMan.Fingerprint
		if baseMan.Fingerprint == p.Fingerprint {
			if baseMan.Stage >= len(p.Stages) {
				return nil, inputErr("%s: base %s is at stage %d, but plan %s has stages 0..%d", rp.renderedPath(), base, baseMan.Stage, p.Fingerprint, len(p.Stages)-1)
			}
			start, entry = baseMan.Stage+1, EntryNext
		} else {
			j := MatchStage(p, baseMan)
			if j < 0 {
				return nil, inputErr("%s/%s on %s is stage %d of plan %s; no stage of the new plan %s has the same members and live hosts, so the new plan cannot start where the ensemble is: make the spec's myids describe the ensemble as it runs now (zkstage plan %s)",
					rp.renderedPath(), render.ManifestFile, base, baseMan.Stage, baseMan.Fingerprint, p.Fingerprint, rp.rel)
			}
			start, entry = j, EntryReplan
		}
	}

	if opts.Author != nil {
		res.Author, res.AuthorSource = *opts.Author, "--author"
	} else if a, src, ok := configAuthor(rp.r); ok {
		res.Author, res.AuthorSource = a, src
	} else {
		res.Author, res.AuthorSource = DefaultAuthor, "default"
	}

	// New settings for a plan under way: the stage the base is at comes
	// first, re-rendered with them, as its own commit with a settings
	// roll; the stages after it then change only the hosts they step.
	var settings *compiler.Stage
	if entry == EntryNext {
		files, err := render.StageFiles(c, p, baseMan.Stage)
		if err != nil {
			return nil, err
		}
		if hosts := settingsHosts(baseFiles, filesMap(files)); len(hosts) > 0 {
			settings, err = compiler.SettingsRoll(c, p, baseMan.Stage)
			if err != nil {
				return nil, inputErr("%s/cluster.cue: the settings of %s change, so zkstage must roll them out before stage %02d, but: %v", rp.rel, strings.Join(hosts, ", "), start, err)
			}
			start, entry = baseMan.Stage, EntrySettings
		}
	}

	obj := objects{rp.r.Storer}
	baseRoot, err := baseCommit.Tree()
	if err != nil {
		return nil, err
	}
	parts := strings.Split(rp.rel, "/")
	parent := baseCommit.Hash
	prev := baseFiles
	planned := map[string]bool{}
	for k := start; k < len(p.Stages); k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		files, err := render.StageFiles(c, p, k)
		if err != nil {
			return nil, err
		}
		cur := filesMap(files)
		renderedHash, err := obj.buildTree(cur)
		if err != nil {
			return nil, err
		}
		clusterHash, err := obj.splice(clusterTree.Hash, []string{RenderedDir}, renderedHash)
		if err != nil {
			return nil, err
		}
		root, err := obj.splice(baseRoot.Hash, parts, clusterHash)
		if err != nil {
			return nil, err
		}
		e := EntryNext
		if k == start {
			e = entry
		}
		stageName := p.Stages[k].Name
		msg := &message{c: c, p: p, k: k, dir: rp.rel, base: base, entry: e, baseMan: baseMan, prev: prev, cur: cur,
			warnings: Warnings(rp.rel, opts.SpecWarnings, p)}
		if e == EntrySettings {
			msg.settings, stageName = settings, settings.Name
		}
		name := BranchName(opts.BranchPrefix, c.Name, k, stageName)
		planned[name] = true
		br, err := rp.putBranch(obj, name, root, parent, msg.text(), res.Author, opts.Now())
		if err != nil {
			return nil, err
		}
		br.Stage, br.Title, br.Entry = k, Title(c.Name, k, stageName), e
		res.Branches = append(res.Branches, *br)
		parent = plumbing.NewHash(br.Commit)
		prev = cur
	}

	// Report branches of merged stages and branches the plan no longer has.
	refs, err := rp.r.Branches()
	if err != nil {
		return nil, err
	}
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		n := ref.Name().Short()
		if !strings.HasPrefix(n, clusterPrefix) || planned[n] {
			return nil
		}
		held := start // the base holds the stages before it
		if entry == EntrySettings {
			held++ // and the one the settings commit re-renders
		}
		if k, ok := branchStage(n[len(clusterPrefix):]); ok && k < held && k < len(p.Stages) &&
			(n == BranchName(opts.BranchPrefix, c.Name, k, p.Stages[k].Name) || n == BranchName(opts.BranchPrefix, c.Name, k, compiler.SettingsName(p.Stages[k].Name))) {
			res.Merged = append(res.Merged, n)
		} else {
			res.Stale = append(res.Stale, n)
		}
		return nil
	})
	sort.Strings(res.Merged)
	sort.Strings(res.Stale)

	if opts.Push != "" && len(res.Branches) > 0 {
		var names []string
		for _, b := range res.Branches {
			names = append(names, b.Name)
		}
		if err := rp.push(ctx, opts.Push, names, opts.PushAuth); err != nil {
			return res, err
		}
		res.Pushed, res.Remote = names, opts.Push
	}
	return res, nil
}

// branchStage parses the NN of "NN-name".
func branchStage(s string) (int, bool) {
	var k int
	if _, err := fmt.Sscanf(s, "%d-", &k); err != nil {
		return 0, false
	}
	return k, true
}

// putBranch points the branch at a commit of tree root on parent with msg,
// keeping the existing commit when it already is exactly that (same tree,
// message and parent), so that re-running with the same plan changes nothing.
func (rp *repo) putBranch(obj objects, name string, root, parent plumbing.Hash, msg string, author Signature, now time.Time) (*Branch, error) {
	refName := plumbing.NewBranchReferenceName(name)
	br := &Branch{Name: name, Parent: parent.String()}
	var old *object.Commit
	if ref, err := rp.r.Reference(refName, true); err == nil {
		old, err = rp.r.CommitObject(ref.Hash())
		if err != nil {
			return nil, fmt.Errorf("branch %s: %w", name, err)
		}
		if old.TreeHash == root && old.Message == msg && len(old.ParentHashes) == 1 && old.ParentHashes[0] == parent {
			br.Action, br.Commit = Kept, old.Hash.String()
			return br, nil
		}
	}
	sig := object.Signature{Name: author.Name, Email: author.Email, When: now}
	h, err := obj.commit(&object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: root, ParentHashes: []plumbing.Hash{parent}})
	if err != nil {
		return nil, err
	}
	if err := rp.r.Storer.SetReference(plumbing.NewHashReference(refName, h)); err != nil {
		return nil, err
	}
	br.Commit = h.String()
	if old == nil {
		br.Action = Created
		return br, nil
	}
	br.Action, br.Previous = Updated, old.Hash.String()
	oldFiles, _, err := readRendered(old, rp.renderedPath())
	if err != nil {
		return nil, err
	}
	newCommit, err := rp.r.CommitObject(h)
	if err != nil {
		return nil, err
	}
	newFiles, _, err := readRendered(newCommit, rp.renderedPath())
	if err != nil {
		return nil, err
	}
	br.Changed = diffFiles(oldFiles, newFiles)
	var why []string
	if len(br.Changed) > 0 {
		why = append(why, fmt.Sprintf("%d rendered file(s) changed", len(br.Changed)))
	}
	if old.Message != msg {
		why = append(why, "description changed")
	}
	if len(old.ParentHashes) != 1 || old.ParentHashes[0] != parent {
		why = append(why, "rebuilt on "+short(parent.String()))
	}
	if old.TreeHash != root && len(br.Changed) == 0 {
		why = append(why, "files outside the rendered folder changed")
	}
	br.Reason = strings.Join(why, "; ")
	return br, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// readRendered returns the rendered folder's files in a commit and its
// manifest (nil when the folder has no stage.json).
func readRendered(c *object.Commit, renderedPath string) (map[string][]byte, *render.Manifest, error) {
	t, err := subtree(c, renderedPath)
	if err != nil {
		return nil, nil, err
	}
	files, err := readTreeFiles(t)
	if err != nil {
		return nil, nil, err
	}
	man, err := parseManifest(renderedPath+"/"+render.ManifestFile+" in "+short(c.Hash.String()), files)
	return files, man, err
}

// parseManifest reads stage.json out of a rendered folder; nil when absent.
func parseManifest(where string, files map[string][]byte) (*render.Manifest, error) {
	data, ok := files[render.ManifestFile]
	if !ok {
		if len(files) > 0 {
			return nil, inputErr("%s: the rendered folder has files but no %s", where, render.ManifestFile)
		}
		return nil, nil
	}
	m, err := render.ParseManifest(data)
	if err != nil {
		return nil, inputErr("%s: %v", where, err)
	}
	return m, nil
}

// MatchStage returns the last stage of p whose configuration and live hosts
// equal the manifest's, or -1: where a new plan stands relative to an
// ensemble rolled out under an older one.
func MatchStage(p *compiler.Plan, m *render.Manifest) int {
	want := ensembleKey(m.Members, m.Live)
	for k := len(p.Stages) - 1; k >= 0; k-- {
		if reflect.DeepEqual(ensembleKey(p.Stages[k].Members, p.Stages[k].Live), want) {
			return k
		}
	}
	return -1
}

type ensemble struct {
	Members []compiler.Member
	Live    []string
}

func ensembleKey(members []compiler.Member, live []string) ensemble {
	ms := append([]compiler.Member{}, members...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	ls := append([]string{}, live...)
	sort.Strings(ls)
	if len(ms) == 0 {
		ms = nil
	}
	if len(ls) == 0 {
		ls = nil
	}
	return ensemble{ms, ls}
}

// settingsHosts lists the hosts whose zoo.cfg differs, beyond comments,
// between two renders of one stage: their settings changed.
func settingsHosts(old, new map[string][]byte) []string {
	var out []string
	for _, c := range diffFiles(old, new) {
		if c.Status == "modified" && strings.HasSuffix(c.Path, "/zoo.cfg") && settingsChanged(old[c.Path], new[c.Path]) {
			out = append(out, hostOf(c.Path))
		}
	}
	return out
}
