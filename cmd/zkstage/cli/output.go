package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/verify"
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

// OutputFormat is the version of the layout of every -o json output, given
// as its first key, "format". Scripts and CI read these outputs: bump it
// when a field is removed, renamed or changes meaning (adding one keeps
// it). TestJSONFormats fails when a layout changes without a bump.
const OutputFormat = 1

// writeJSON writes v, a JSON object, indented, with "format" first.
func writeJSON(w io.Writer, v interface{}) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) < 2 || b[0] != '{' {
		return fmt.Errorf("internal error: -o json output is not an object: %.20s", b)
	}
	head := fmt.Sprintf(`{"format":%d`, OutputFormat)
	if len(b) > 2 {
		head += ","
	}
	var out bytes.Buffer
	if err := json.Indent(&out, append([]byte(head), b[1:]...), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// writeSpecJSON writes a cluster spec as JSON. It carries no "format": it
// is a spec (CUE reads JSON), versioned by the schema, and a key the
// schema does not know would fail vet.
func writeSpecJSON(w io.Writer, v interface{}) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The -o json outputs that are not a library type of their own.
type (
	renderCheckOutput struct {
		OK    bool          `json:"ok"`
		Diffs []render.Diff `json:"diffs"`
	}
	verifyOutput struct {
		OK bool `json:"ok"`
		*verify.Report
	}
	labOutput struct {
		State     string           `json:"state"`
		ZooKeeper string           `json:"zookeeper"`
		Hosts     []lab.HostStatus `json:"hosts"`
	}
)
