package zoocfg

import (
	"testing"
)

// FuzzParse checks that no input makes the parser panic, and that what it
// accepts is self-consistent: positions are set, ports are in range, and a
// server line rendered back parses to the same server.
// Seeds live in testdata/fuzz/FuzzParse; run with
// go test -fuzz FuzzParse ./zoocfg
func FuzzParse(f *testing.F) {
	f.Add([]byte(cfg34))
	f.Add([]byte(cfg38))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dynamic := range []bool{false, true} {
			var c *Config
			var err error
			if dynamic {
				c, err = ParseDynamic("f", data)
			} else {
				c, err = Parse("f", data)
			}
			if c == nil {
				t.Fatal("nil Config")
			}
			if err != nil {
				errs, ok := err.(Errors)
				if !ok || len(errs) == 0 {
					t.Fatalf("error %T %v is not a non-empty Errors", err, err)
				}
				for _, e := range errs {
					if e.File != "f" || e.Line < 1 {
						t.Fatalf("error without position: %+v", e)
					}
				}
				continue
			}
			for _, e := range c.Entries {
				if e.Line < 1 {
					t.Fatalf("entry without line: %+v", e)
				}
			}
			for _, s := range c.Servers {
				if s.Line < 1 || s.QuorumPort < 1 || s.QuorumPort > 65535 || s.ElectionPort < 1 || s.ElectionPort > 65535 {
					t.Fatalf("bad server accepted: %+v", s)
				}
				back, err := ParseServerLine(s.Key(), s.Value())
				back.File, back.Line = s.File, s.Line
				if err != nil || back != s {
					t.Fatalf("server %+v renders as %q which parses to %+v, %v", s, s.Value(), back, err)
				}
			}
		}
	})
}
