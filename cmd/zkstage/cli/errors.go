package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"

	"github.com/zkstage/zkstage/schema"
)

// printError prints every error of a CUE error list on one line each, as
// "file:line:col: field: message", so editors and CI annotate the spot.
// An error that is not CUE's (a file-system error, say) is printed as it
// is: it names its path. No line is ever printed without a message.
func printError(w io.Writer, err error) {
	var ce cueerrors.Error
	list := cueerrors.Errors(err)
	if !errors.As(err, &ce) || len(list) == 0 {
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
	if strings.TrimSpace(msg) == "" {
		msg = e.Error()
	}
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
