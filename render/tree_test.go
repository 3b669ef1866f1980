package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func noDrift(t *testing.T, out string, tree Tree) {
	t.Helper()
	diffs, err := Check(out, tree, true)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("drift under %s: %v %v", out, diffs, err)
	}
}

// TestWriteSwapsWholeTree: a render replaces every stage at once, drops
// stale rendered stages and leftovers of interrupted renders, keeps the
// user's files (the same files, by hard link) and leaves nothing beside OUT.
func TestWriteSwapsWholeTree(t *testing.T) {
	parent, out, _, lab := renderedReference(t)
	mustWrite(t, filepath.Join(out, "README"), "mine")
	mustWrite(t, filepath.Join(out, "notes", "a.txt"), "a")
	if err := os.Symlink("README", filepath.Join(out, "readme.link")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(out, "03-grow-5-to-7-start.zkstage-old", ManifestFile), "{}")
	before, _ := os.Stat(filepath.Join(out, "README"))

	if err := Write(out, lab, true); err != nil {
		t.Fatal(err)
	}
	noDrift(t, out, lab)
	after, err := os.Stat(filepath.Join(out, "README"))
	if err != nil || !os.SameFile(before, after) {
		t.Errorf("README not carried over as the same file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "notes", "a.txt")); string(b) != "a" {
		t.Errorf("notes/a.txt lost")
	}
	if dest, _ := os.Readlink(filepath.Join(out, "readme.link")); dest != "README" {
		t.Errorf("symbolic link lost")
	}
	if _, err := os.Stat(filepath.Join(out, "03-grow-5-to-7-start.zkstage-old")); !os.IsNotExist(err) {
		t.Errorf("leftover stage folder kept: %v", err)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("beside OUT: %v, want only OUT", entries)
	}
}

// TestWriteFailureChangesNothing: when the new tree cannot be assembled
// (here a named pipe in OUT cannot be carried over), OUT keeps every stage
// of the previous render: no mix of two specs.
func TestWriteFailureChangesNothing(t *testing.T) {
	parent, out, ref, lab := renderedReference(t)
	if err := syscall.Mkfifo(filepath.Join(out, "pipe"), 0o644); err != nil {
		t.Skip(err)
	}
	err := Write(out, lab, true)
	if err == nil || !strings.Contains(err.Error(), "pipe is a named pipe") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("error %v, want a refusal naming the pipe", err)
	}
	noDrift(t, out, ref)
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("beside OUT: %v, want only OUT", entries)
	}
}

// TestWriteRefusesConcurrent: while a render holds the lock beside OUT,
// another is refused with ErrBusy and changes nothing.
func TestWriteRefusesConcurrent(t *testing.T) {
	ref, _ := renderAll(t, "../clusters/reference")
	parent := t.TempDir()
	unlock, err := lock(parent)
	if err != nil {
		t.Fatal(err)
	}
	err = Write(filepath.Join(parent, "stages"), ref, true)
	unlock()
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "another zkstage render is writing there now") {
		t.Fatalf("error %v, want ErrBusy", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("written while locked: %v", entries)
	}
	if err := Write(filepath.Join(parent, "stages"), ref, true); err != nil {
		t.Errorf("after unlock: %v", err)
	}
	// A check waits for no render: it is refused while one writes, and
	// checks share the lock with each other.
	unlock, _ = lock(parent)
	_, err = Check(filepath.Join(parent, "stages"), ref, true)
	unlock()
	if !errors.Is(err, ErrBusy) {
		t.Errorf("check during a render: %v, want ErrBusy", err)
	}
	runlock, _ := rlock(parent)
	defer runlock()
	noDrift(t, filepath.Join(parent, "stages"), ref)
}

func TestWriteOut(t *testing.T) {
	ref, _ := renderAll(t, "../clusters/reference")
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	mustWrite(t, file, "x")
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	real := filepath.Join(dir, "real")
	os.Mkdir(real, 0o755)
	link := filepath.Join(dir, "link")
	os.Symlink("real", link)
	for _, tc := range []struct{ name, out, err string }{
		{"a file", file, file + " is a regular file, not a folder"},
		{"a dangling link", dangling, dangling + " is a symbolic link to " + filepath.Join(dir, "nowhere") + ", which does not exist"},
		{"a link to a folder", link, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(tc.out, ref, true)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	noDrift(t, real, ref)
	if b, _ := os.ReadFile(file); string(b) != "x" {
		t.Error("the file was clobbered")
	}
}

// TestCheckInputs: what is not a tree of plain files is an error naming the
// path; leftovers of interrupted renders are no drift.
func TestCheckInputs(t *testing.T) {
	ref, _ := renderAll(t, "../clusters/reference")
	setup := func(t *testing.T) string {
		out := filepath.Join(t.TempDir(), "stages")
		if err := Write(out, ref, true); err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Run("missing folder", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "nope")
		if _, err := Check(out, ref, true); err == nil || err.Error() != out+" does not exist: there are no rendered stages to check" {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("symlinked stage folder", func(t *testing.T) {
		out := setup(t)
		st := filepath.Join(out, "00-current")
		os.Rename(st, st+"-real")
		os.Symlink("00-current-real", st)
		if _, err := Check(out, ref, true); err == nil || err.Error() != st+" is a symbolic link: zkstage renders folders and regular files only" {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("named pipe", func(t *testing.T) {
		out := setup(t)
		p := filepath.Join(out, "00-current", "zk1-dc1", "zoo.cfg")
		os.Remove(p)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip(err)
		}
		if _, err := Check(out, ref, true); err == nil || err.Error() != p+" is a named pipe: zkstage renders folders and regular files only" {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("unreadable file", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		out := setup(t)
		p := filepath.Join(out, "00-current", "zk1-dc1", "zoo.cfg")
		os.Chmod(p, 0)
		if _, err := Check(out, ref, true); err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("error %v, want one naming %s", err, p)
		}
	})
	t.Run("leftover is no drift", func(t *testing.T) {
		out := setup(t)
		mustWrite(t, filepath.Join(out, "03-grow-5-to-7-start.zkstage-old", ManifestFile), "{}")
		noDrift(t, out, ref)
	})
}

// renderedReference renders the reference cluster into parent/stages and
// returns the trees of the reference and lab clusters.
func renderedReference(t *testing.T) (parent, out string, ref, lab Tree) {
	t.Helper()
	ref, _ = renderAll(t, "../clusters/reference")
	lab, _ = renderAll(t, "../clusters/lab")
	parent = t.TempDir()
	out = filepath.Join(parent, "stages")
	if err := Write(out, ref, true); err != nil {
		t.Fatal(err)
	}
	return parent, out, ref, lab
}

func renderAll(t *testing.T, dir string) (Tree, error) {
	t.Helper()
	c, p := plan(t, dir)
	return Render(c, p, -1)
}

// TestWriteIntoDot: "." is rendered into through its absolute path.
func TestWriteIntoDot(t *testing.T) {
	ref, _ := renderAll(t, "../clusters/reference")
	dir := t.TempDir()
	t.Chdir(dir)
	if err := Write(".", ref, true); err != nil {
		t.Fatal(err)
	}
	noDrift(t, dir, ref)
	if err := Write("/", ref, true); err == nil || err.Error() != "/: zkstage renders into a folder that has a parent" {
		t.Errorf("render into /: %v", err)
	}
}
