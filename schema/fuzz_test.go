package schema

import (
	"os"
	"testing"

	cueerrors "cuelang.org/go/cue/errors"
)

// FuzzLoad: no spec makes the loader panic, and every refusal is a
// non-empty, capped list of errors that each say something. (How long a
// load takes is measured by BenchmarkLoadNUL, not asserted here.)
// go test -run XXX -fuzz FuzzLoad ./schema; seeds in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"../clusters/reference", "../clusters/lab"} {
		if src, err := os.ReadFile(SpecFile(dir)); err == nil {
			f.Add(src)
		}
	}
	f.Add(spec("3.8.0", `hosts: h4: {address: "10.0.0.4\nserver.4=6.6.6.6:2888:3888", dc: "a"}`))
	f.Add(spec("3.8.0", "settings: tickTime: \"2000\"\nname: \"u\"\n"))
	f.Add([]byte("name: \"a\x00\x00\"\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, _, err := LoadBytes("f/cluster.cue", src)
		if err == nil {
			if c == nil {
				t.Fatal("nil cluster without error")
			}
			return
		}
		list := cueerrors.Errors(err)
		if len(list) == 0 || len(list) > MaxErrors+1 {
			t.Fatalf("%d errors: %v", len(list), err)
		}
		for _, e := range list {
			format, args := e.Msg()
			if msg := e.Error(); msg == "" || format == "" && len(args) == 0 {
				t.Fatalf("empty error in %v", err)
			}
		}
	})
}
