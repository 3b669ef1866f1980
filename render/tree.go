package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/internal/fileio"
	"github.com/zkstage/zkstage/schema"
)

// Tree is the rendered output of one or more stages: stage folder name ->
// files of that stage.
type Tree map[string][]File

// Render renders stage k, or every stage when k < 0.
func Render(c *schema.Cluster, p *compiler.Plan, k int) (Tree, error) {
	t := Tree{}
	lo, hi := 0, len(p.Stages)-1
	if k >= 0 {
		if k >= len(p.Stages) {
			return nil, fmt.Errorf("stage %d does not exist: the plan has stages 0..%d", k, len(p.Stages)-1)
		}
		lo, hi = k, k
	}
	for i := lo; i <= hi; i++ {
		files, err := StageFiles(c, p, i)
		if err != nil {
			return nil, err
		}
		t[StageDir(p, i)] = files
	}
	return t, nil
}

// stageDirRE matches the stage folders zkstage renders: NN-<stage name>.
// Stage names are lower-case letters, digits and '-', so a leftover
// "NN-name.zkstage-old" of an older zkstage is no stage folder.
var stageDirRE = regexp.MustCompile(`^[0-9]{2,}-[a-z0-9-]+$`)

// leftoverRE matches what an interrupted render of an older zkstage left
// inside OUT: a stage folder moved aside, a temporary render folder.
var leftoverRE = regexp.MustCompile(`^([0-9]{2,}-[a-z0-9-]+\.zkstage-old|\.zkstage-render-.*)$`)

// Write writes the tree into out as one change: the new content of out is
// assembled in a folder beside it (the rendered stages, and whatever else
// out holds, carried over by hard links), then swapped with out in one
// rename, so a reader sees either the old tree or the new one, never a mix
// of stages from two specs. With all set, stage folders that zkstage
// rendered earlier (they hold a manifest) and are not in the tree are
// dropped; nothing else in out is lost. Concurrent writes beside one
// folder are refused (ErrBusy), not interleaved.
func Write(out string, t Tree, all bool) error {
	target, exists, err := resolveOut(out)
	if err != nil {
		return err
	}
	// The new tree is assembled beside OUT, in its parent: "." must be
	// named by its absolute path to have one.
	if target, err = filepath.Abs(target); err != nil {
		return err
	}
	parent := filepath.Dir(target)
	if parent == target {
		return fmt.Errorf("%s: zkstage renders into a folder that has a parent", out)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	unlock, err := lock(parent)
	if err != nil {
		return fmt.Errorf("render into %s: %w", out, err)
	}
	defer unlock()
	next, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".zkstage-new-")
	if err != nil {
		return fmt.Errorf("render into %s: %w", out, err)
	}
	defer os.RemoveAll(next)
	mode := fs.FileMode(0o755)
	if exists {
		st, err := os.Stat(target)
		if err != nil {
			return err
		}
		mode = st.Mode().Perm()
		if err := carryOver(target, next, t, all); err != nil {
			return fmt.Errorf("render into %s: %w (nothing was changed)", out, err)
		}
	}
	for dir, files := range t {
		for _, f := range files {
			p := filepath.Join(next, dir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				return err
			}
		}
	}
	if err := os.Chmod(next, mode); err != nil {
		return err
	}
	if !exists {
		return os.Rename(next, target)
	}
	// next holds the old tree after the swap; the deferred RemoveAll
	// drops it.
	return swap(next, target)
}

// resolveOut follows a symbolic link at out (the swap must replace the
// folder it points to, not the link) and says whether the folder exists.
func resolveOut(out string) (string, bool, error) {
	st, err := os.Lstat(out)
	switch {
	case os.IsNotExist(err):
		return out, false, nil
	case err != nil:
		return "", false, err
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(out)
		if os.IsNotExist(err) {
			dest, _ := os.Readlink(out)
			return "", false, fmt.Errorf("%s is a symbolic link to %s, which does not exist", out, dest)
		}
		if err != nil {
			return "", false, err
		}
		return resolveOut(target)
	case !st.IsDir():
		return "", false, fmt.Errorf("%s is a %s, not a folder", out, fileio.Kind(st.Mode()))
	}
	return out, true, nil
}

// carryOver links into next every entry of out the new tree keeps: all
// but the stages being rendered, stale rendered stages (with all) and
// leftovers of interrupted renders.
func carryOver(out, next string, t Tree, all bool) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		src := filepath.Join(out, name)
		if _, rendered := t[name]; rendered {
			continue
		}
		if e.IsDir() && (leftoverRE.MatchString(name) || all && stageDirRE.MatchString(name)) && hasManifest(src) {
			continue
		}
		if strings.HasPrefix(name, ".zkstage-render-") && e.IsDir() {
			continue
		}
		if err := linkTree(src, filepath.Join(next, name)); err != nil {
			return err
		}
	}
	return nil
}

func hasManifest(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, ManifestFile))
	return err == nil && st.Mode().IsRegular()
}

// linkTree recreates src at dst: folders with their permissions, regular
// files as hard links (copies where the file system has none), symbolic
// links as links. Other kinds of file are refused.
func linkTree(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		return err
	}
	switch m := st.Mode(); {
	case m.IsDir():
		if err := os.Mkdir(dst, m.Perm()|0o700); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := linkTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
		return os.Chmod(dst, m.Perm())
	case m&fs.ModeSymlink != 0:
		dest, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(dest, dst)
	case m.IsRegular():
		if os.Link(src, dst) == nil {
			return nil
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, m.Perm())
	default:
		return fmt.Errorf("%s is a %s: zkstage cannot carry it over into the new tree", src, fileio.Kind(m))
	}
}

// Diff is one file that differs between the rendered tree and a folder.
type Diff struct {
	Path   string `json:"path"`
	Status string `json:"status"` // missing | changed | extra
}

// CompareFiles lists the paths whose bytes differ between want and got:
// "missing" (only in want), "changed", "extra" (only in got), in path order.
func CompareFiles(want, got map[string][]byte) []Diff {
	var out []Diff
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			out = append(out, Diff{p, "missing"})
		case !bytes.Equal(g, w):
			out = append(out, Diff{p, "changed"})
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			out = append(out, Diff{p, "extra"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// MaxFileBytes bounds what Check reads of one file under out: rendered
// files are a few kB.
const MaxFileBytes = 16 << 20

// Check compares the tree with what is under out and returns the files that
// differ (drift), in path order.
// With all set, stage folders under out that the plan no longer has are
// reported as extra too. out must be a folder (a symbolic link to one is
// followed); inside it, zkstage expects plain folders and regular files, and
// anything else (a symbolic link, a pipe) or a file it cannot read is an
// error naming the path, not drift. A check while a render writes there is
// refused (ErrBusy).
func Check(out string, t Tree, all bool) ([]Diff, error) {
	st, err := os.Stat(out)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%s does not exist: there are no rendered stages to check", out)
	}
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is a %s, not a folder of rendered stages", out, fileio.Kind(st.Mode()))
	}
	// Not while a render swaps the tree: a check would read a mix.
	if abs, err := filepath.Abs(out); err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		unlock, err := rlock(filepath.Dir(abs))
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", out, err)
		}
		defer unlock()
	}
	want := map[string][]byte{}
	got := map[string][]byte{}
	for dir, files := range t {
		for _, f := range files {
			want[filepath.ToSlash(filepath.Join(dir, f.Path))] = f.Data
		}
		root := filepath.Join(out, dir)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && path == root {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s is a %s: zkstage renders folders and regular files only", path, fileio.Kind(d.Type()))
			}
			data, err := fileio.ReadRegular(path, MaxFileBytes)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(out, path)
			got[filepath.ToSlash(rel)] = data
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	diffs := CompareFiles(want, got)
	if all {
		entries, err := os.ReadDir(out)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if _, ok := t[e.Name()]; !ok && e.IsDir() && stageDirRE.MatchString(e.Name()) {
				diffs = append(diffs, Diff{e.Name() + "/", "extra"})
			}
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs, nil
}
