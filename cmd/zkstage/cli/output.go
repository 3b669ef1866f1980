package cli

import (
	"encoding/json"
	"io"

	"github.com/spf13/pflag"
)

// outputFlag adds the -o/--output switch with the formats a command supports.
func outputFlag(fs *pflag.FlagSet, formats ...string) *string {
	usage := "output format: "
	for i, f := range formats {
		if i > 0 {
			usage += "|"
		}
		usage += f
	}
	return fs.StringP("output", "o", formats[0], usage)
}

// checkFormat validates the -o value against the supported formats.
func checkFormat(got string, formats ...string) error {
	for _, f := range formats {
		if got == f {
			return nil
		}
	}
	return usageErr("unknown output format %q (want one of %v)", got, formats)
}

func writeJSON(w io.Writer, v interface{}) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
