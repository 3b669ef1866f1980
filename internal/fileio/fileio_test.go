package fileio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	fifo := filepath.Join(dir, "fifo")
	link := filepath.Join(dir, "link")
	if err := os.WriteFile(small, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, []byte("abcdef"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, data, err string
	}{
		{"regular", small, "abc", ""},
		{"at the cap", filepath.Join(dir, "small"), "abc", ""},
		{"symlink followed", link, "abc", ""},
		{"over the cap", big, "", "larger than 5 bytes"},
		{"fifo refused, not read", fifo, "", "not a regular file (named pipe)"},
		{"directory", dir, "", "not a regular file (directory)"},
		{"missing", filepath.Join(dir, "nope"), "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ReadRegular(tc.path, 5)
			if tc.err == "" {
				if err != nil || string(data) != tc.data {
					t.Fatalf("got %q, %v; want %q", data, err, tc.data)
				}
				return
			}
			var pe *fs.PathError
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &pe) || pe.Path != tc.path {
				t.Fatalf("error %v, want a path error on %s containing %q", err, tc.path, tc.err)
			}
		})
	}
}
