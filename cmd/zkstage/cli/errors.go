package cli

import (
	"fmt"
	"io"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"

	"github.com/zkstage/zkstage/schema"
)

// printError prints every error of a CUE error list on one line each, as
// "file:line:col: field: message", so editors and CI annotate the spot.
func printError(w io.Writer, err error) {
	list := cueerrors.Errors(err)
	if len(list) == 0 {
		fmt.Fprintf(w, "zkstage: %v\n", err)
		return
	}
	for _, e := range list {
		fmt.Fprintln(w, formatError(e))
	}
}

func formatError(e cueerrors.Error) string {
	format, args := e.Msg()
	msg := fmt.Sprintf(format, args...)
	var b strings.Builder
	if p := e.Position(); p.IsValid() {
		b.WriteString(p.String())
		b.WriteString(": ")
	}
	if path := e.Path(); len(path) > 0 {
		b.WriteString(schema.FormatPath(path))
		b.WriteString(": ")
	}
	b.WriteString(msg)
	return b.String()
}

