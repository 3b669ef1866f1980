// Package fileio reads input files with bounds: regular files only (a named
// pipe or a device would block or never end) and at most a given size (a
// huge file would cost time and memory for nothing).
package fileio

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ReadRegular reads the regular file at path (symbolic links are followed)
// if it holds at most max bytes. Its errors are *fs.PathError values whose
// Err says what is wrong ("not a regular file (named pipe)", "larger than
// ... bytes"), so callers can name the path themselves.
func ReadRegular(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, st, max); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should the file be swapped for a pipe after the Stat,
	// opening it still returns at once; the Stat below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err = f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(path, st, max); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, tooLarge(path, max)
	}
	return data, nil
}

func regular(path string, st fs.FileInfo, max int64) error {
	if !st.Mode().IsRegular() {
		return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("not a regular file (%s)", Kind(st.Mode()))}
	}
	if st.Size() > max {
		return tooLarge(path, max)
	}
	return nil
}

func tooLarge(path string, max int64) error {
	return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d bytes, the limit for this file", max)}
}

// Kind names a file mode for messages: "directory", "named pipe", ...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsRegular():
		return "regular file"
	}
	return "special file"
}
