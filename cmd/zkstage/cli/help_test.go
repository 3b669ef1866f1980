package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// Every help page has a usage line naming each flag, an example and the
// exit codes.
func TestHelpPages(t *testing.T) {
	for name, c := range commands {
		if name != c.Name {
			continue // an alias
		}
		t.Run(name, func(t *testing.T) {
			fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
			if c.Flags != nil {
				c.Flags(fs)
			}
			fs.VisitAll(func(f *pflag.Flag) {
				long := regexp.MustCompile(`--` + regexp.QuoteMeta(f.Name) + `\b`)
				if !long.MatchString(c.Usage) && !(f.Shorthand != "" && strings.Contains(c.Usage, "-"+f.Shorthand+" ")) {
					t.Errorf("usage %q omits --%s", c.Usage, f.Name)
				}
			})
			if c.Example == "" {
				t.Error("no example")
			}
			var b bytes.Buffer
			printUsage(&b, c, fs)
			if !strings.Contains(b.String(), "examples:\n") || !strings.HasSuffix(b.String(), exitCodesFooter()) {
				t.Errorf("help page lacks examples or exit codes:\n%s", b.String())
			}
		})
	}
}
