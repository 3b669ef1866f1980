package gitops

import (
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// objects writes blobs, trees and commits straight into the object store,
// so that building a stage never touches the worktree or the index.
type objects struct {
	s storer.EncodedObjectStorer
}

func (o objects) blob(data []byte) (plumbing.Hash, error) {
	obj := o.s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.s.SetEncodedObject(obj)
}

func (o objects) tree(entries []object.TreeEntry) (plumbing.Hash, error) {
	sort.Sort(object.TreeEntrySorter(entries))
	obj := o.s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.s.SetEncodedObject(obj)
}

func (o objects) commit(c *object.Commit) (plumbing.Hash, error) {
	obj := o.s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.s.SetEncodedObject(obj)
}

// buildTree writes a tree holding files (slash path -> bytes). An empty map
// gives the zero hash: git has no empty folders.
func (o objects) buildTree(files map[string][]byte) (plumbing.Hash, error) {
	if len(files) == 0 {
		return plumbing.ZeroHash, nil
	}
	here := map[string][]byte{}
	sub := map[string]map[string][]byte{}
	for p, data := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if sub[dir] == nil {
				sub[dir] = map[string][]byte{}
			}
			sub[dir][rest] = data
		} else {
			here[p] = data
		}
	}
	var entries []object.TreeEntry
	for name, data := range here {
		h, err := o.blob(data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
	}
	for name, files := range sub {
		h, err := o.buildTree(files)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	return o.tree(entries)
}

// splice returns root with the entry at path replaced by the tree sub (the
// zero hash removes it). Folders left empty are removed, as git would.
func (o objects) splice(root plumbing.Hash, path []string, sub plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !root.IsZero() {
		t, err := object.GetTree(o.s, root)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, t.Entries...)
	}
	idx := -1
	for i, e := range entries {
		if e.Name == path[0] {
			idx = i
			break
		}
	}
	newHash := sub
	if len(path) > 1 {
		var child plumbing.Hash
		if idx >= 0 && entries[idx].Mode == filemode.Dir {
			child = entries[idx].Hash
		}
		h, err := o.splice(child, path[1:], sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		newHash = h
	}
	if idx >= 0 {
		entries = append(entries[:idx], entries[idx+1:]...)
	}
	if !newHash.IsZero() {
		entries = append(entries, object.TreeEntry{Name: path[0], Mode: filemode.Dir, Hash: newHash})
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	return o.tree(entries)
}
