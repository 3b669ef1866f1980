//go:build !linux

package render

// swap puts next in out's place; without renameat2, by two renames.
func swap(next, out string) error { return swapByRenames(next, out) }

// lock is a no-op where flock on a folder is not available.
func lock(dir string) (func(), error) { return func() {}, nil }

// rlock is a no-op where flock on a folder is not available.
func rlock(dir string) (func(), error) { return func() {}, nil }
