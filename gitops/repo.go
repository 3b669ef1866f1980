package gitops

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/zkstage/zkstage/render"
)

// RenderedDir is the folder, inside a cluster folder, holding the rendered
// files of the stage the branch is at: <host>/zoo.cfg, <host>/myid and
// stage.json.
const RenderedDir = "rendered"

// InputError is a usage or input problem (bad repository, unknown ref, dirty
// worktree): the CLI maps it to exit code 2.
type InputError struct {
	Msg string
	// Paths lists the offending paths (the dirty files), repository-relative.
	Paths []string
}

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...interface{}) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// repo is an opened repository and the cluster folder inside it.
type repo struct {
	r    *git.Repository
	root string // worktree root, absolute
	// rel is the cluster folder relative to the root, slash-separated.
	rel string
	// dir is the cluster folder as given (for messages and disk reads).
	dir string
}

// openRepo opens the repository holding dir (or repoPath when set) and
// locates the cluster folder in it.
func openRepo(repoPath, dir string) (*repo, error) {
	if dir == "" {
		return nil, inputErr("no cluster directory")
	}
	absDir, err := realAbs(dir)
	if err != nil {
		return nil, inputErr("cluster directory %s: %v", dir, err)
	}
	open := repoPath
	if open == "" {
		open = absDir
	}
	r, err := git.PlainOpenWithOptions(open, &git.PlainOpenOptions{DetectDotGit: repoPath == ""})
	if err != nil {
		return nil, inputErr("%s: not a git repository: %v", open, err)
	}
	wt, err := r.Worktree()
	if err != nil {
		return nil, inputErr("%s: %v (a bare repository has no cluster folder to read)", open, err)
	}
	root, err := realAbs(wt.Filesystem.Root())
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(root, absDir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, inputErr("cluster directory %s is not inside the repository %s", dir, root)
	}
	return &repo{r: r, root: root, rel: filepath.ToSlash(rel), dir: dir}, nil
}

func realAbs(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// renderedPath is the repository path of the rendered folder.
func (rp *repo) renderedPath() string { return path.Join(rp.rel, RenderedDir) }

// dirty lists the paths under the cluster folder that differ from HEAD in
// the worktree or the index, untracked files included.
func (rp *repo) dirty() ([]string, error) {
	wt, err := rp.r.Worktree()
	if err != nil {
		return nil, err
	}
	st, err := wt.Status()
	if err != nil {
		return nil, fmt.Errorf("git status: %w", err)
	}
	var out []string
	for p, s := range st {
		if !strings.HasPrefix(p, rp.rel+"/") {
			continue
		}
		if s.Worktree != git.Unmodified || s.Staging != git.Unmodified {
			out = append(out, fmt.Sprintf("%c%c %s", code(s.Staging), code(s.Worktree), p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][3:] < out[j][3:] })
	return out, nil
}

func code(c git.StatusCode) byte {
	if c == git.Unmodified {
		return ' '
	}
	return byte(c)
}

// resolve returns the commit a revision names (branch, remote branch, tag,
// hash, HEAD~1, ...).
func (rp *repo) resolve(rev string) (*object.Commit, error) {
	h, err := rp.r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, inputErr("%s: unknown revision: %v", rev, err)
	}
	c, err := rp.r.CommitObject(*h)
	if err != nil {
		return nil, inputErr("%s: not a commit: %v", rev, err)
	}
	return c, nil
}

// subtree returns the tree at p in the commit, or nil when p does not exist.
func subtree(c *object.Commit, p string) (*object.Tree, error) {
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	if p == "" {
		return t, nil
	}
	sub, err := t.Tree(p)
	if errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, nil
	}
	return sub, err
}

// readTreeFiles returns every file under t as slash path (relative to t) ->
// bytes; a nil tree has no files.
func readTreeFiles(t *object.Tree) (map[string][]byte, error) {
	out := map[string][]byte{}
	if t == nil {
		return out, nil
	}
	err := t.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		if err != nil {
			return err
		}
		out[f.Name] = []byte(s)
		return nil
	})
	return out, err
}

// readDirFiles returns every file under dir on disk as slash path -> bytes;
// a missing dir has no files.
func readDirFiles(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if os.IsNotExist(err) {
		return out, nil
	}
	return out, err
}

// filesMap turns rendered files into path -> bytes.
func filesMap(files []render.File) map[string][]byte {
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		m[f.Path] = f.Data
	}
	return m
}
