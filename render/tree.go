package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/zkstage/zkstage/compiler"
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

var stageDirRE = regexp.MustCompile(`^[0-9]{2,}-`)

// Write writes the tree under out without ever leaving partial files: every
// stage is first written to a temporary folder beside out, then swapped in.
// With all set, stale stage folders that zkstage rendered earlier (they hold
// a manifest) are removed; nothing else in out is touched.
func Write(out string, t Tree, all bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(out, ".zkstage-render-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for dir, files := range t {
		for _, f := range files {
			p := filepath.Join(tmp, dir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				return err
			}
		}
	}
	if all {
		entries, err := os.ReadDir(out)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if _, keep := t[e.Name()]; keep || !e.IsDir() || !stageDirRE.MatchString(e.Name()) {
				continue
			}
			if _, err := os.Stat(filepath.Join(out, e.Name(), ManifestFile)); err == nil {
				if err := os.RemoveAll(filepath.Join(out, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	for _, dir := range sortedDirs(t) {
		dst := filepath.Join(out, dir)
		old := dst + ".zkstage-old"
		_ = os.RemoveAll(old)
		if _, err := os.Stat(dst); err == nil {
			if err := os.Rename(dst, old); err != nil {
				return err
			}
		}
		if err := os.Rename(filepath.Join(tmp, dir), dst); err != nil {
			_ = os.Rename(old, dst) // put the previous render back
			return err
		}
		_ = os.RemoveAll(old)
	}
	return nil
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

// Check compares the tree with what is under out and returns the files that
// differ (drift), in path order.
// With all set, stage folders under out that the plan no longer has are
// reported as extra too.
func Check(out string, t Tree, all bool) ([]Diff, error) {
	want := map[string][]byte{}
	got := map[string][]byte{}
	for dir, files := range t {
		for _, f := range files {
			want[filepath.ToSlash(filepath.Join(dir, f.Path))] = f.Data
		}
		root := filepath.Join(out, dir)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(path)
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
		if err != nil && !os.IsNotExist(err) {
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

func sortedDirs(t Tree) []string {
	var dirs []string
	for d := range t {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
}
