package render

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// swap exchanges the folders next and out in one rename (renameat2
// RENAME_EXCHANGE): out then holds the new tree, next the old one. Where
// the file system cannot exchange, out is moved aside and next moved in,
// and out is put back if the second rename fails.
func swap(next, out string) error {
	err := unix.Renameat2(unix.AT_FDCWD, next, unix.AT_FDCWD, out, unix.RENAME_EXCHANGE)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.ENOTSUP) {
		return fmt.Errorf("swap %s into %s: %w", next, out, err)
	}
	return swapByRenames(next, out)
}

// lock takes an exclusive, non-blocking flock on dir (the folder that holds
// OUT); the lock goes with the process, so a crashed render leaves none.
func lock(dir string) (func(), error) { return flock(dir, unix.LOCK_EX) }

// rlock takes a shared lock: checks run side by side, never during a write.
func rlock(dir string) (func(), error) { return flock(dir, unix.LOCK_SH) }

func flock(dir string, how int) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is locked: %w", dir, ErrBusy)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
