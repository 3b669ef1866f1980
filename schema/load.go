package schema

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

//go:embed cluster.cue
var schemaSource []byte

// SchemaFile is the name under which the embedded schema appears in positions.
const SchemaFile = "zkstage:schema/cluster.cue"

// Source returns the embedded CUE schema (for `zkstage help schema`).
func Source() []byte { return schemaSource }

// SpecFile returns the cluster.cue path for a cluster directory or file.
func SpecFile(dirOrFile string) string {
	if strings.HasSuffix(dirOrFile, ".cue") {
		return dirOrFile
	}
	return filepath.Join(dirOrFile, "cluster.cue")
}

// Load reads, unifies with the schema, validates and decodes a cluster spec.
// The error, when not nil, is a cue errors.Error list whose entries carry
// positions in the user's file; warnings are returned even on success.
func Load(dirOrFile string) (*Cluster, []Warning, error) {
	file := SpecFile(dirOrFile)
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, cueerrors.Newf(token.NoPos, "%s: %v", file, unwrapPathError(err))
	}
	return LoadBytes(file, src)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// LoadBytes is Load for a spec already in memory; file names it in positions.
func LoadBytes(file string, src []byte) (*Cluster, []Warning, error) {
	ctx := cuecontext.New()
	schemaAST, err := parser.ParseFile(SchemaFile, schemaSource)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded schema: %w", err)
	}
	def := ctx.BuildFile(schemaAST).LookupPath(cue.ParsePath("#Cluster"))
	if err := def.Err(); err != nil {
		return nil, nil, fmt.Errorf("embedded schema: %w", err)
	}

	f, err := parser.ParseFile(file, src, parser.ParseComments)
	if err != nil {
		return nil, nil, err
	}
	user := ctx.BuildFile(f)
	if err := user.Err(); err != nil {
		return nil, nil, err
	}
	v := def.Unify(user)
	if err := v.Validate(cue.Concrete(true), cue.All()); err != nil {
		return nil, nil, locate(file, user, err)
	}

	var c Cluster
	if err := v.Decode(&c); err != nil {
		return nil, nil, locate(file, user, err)
	}
	c.File = file
	c.PolicyPos = posOf(user, "policy", file)
	for name, d := range c.Datacenters {
		d.Name = name
		d.Pos = posOf(user, "datacenters."+quote(name), file)
	}
	for name, h := range c.Hosts {
		h.Name = name
		h.Pos = posOf(user, "hosts."+quote(name), file)
		h.Ports = c.Ports
		if o := v.LookupPath(cue.ParsePath("hosts." + quote(name) + ".ports")); o.Exists() {
			var po struct{ Client, Quorum, Election *int }
			if err := o.Decode(&po); err != nil {
				return nil, nil, locate(file, user, err)
			}
			if po.Client != nil {
				h.Ports.Client = *po.Client
			}
			if po.Quorum != nil {
				h.Ports.Quorum = *po.Quorum
			}
			if po.Election != nil {
				h.Ports.Election = *po.Election
			}
		}
	}
	errs, warns := check(&c, user, file)
	if errs != nil {
		return nil, warns, errs
	}
	return &c, warns, nil
}

// quote makes a map key safe inside a CUE path.
func quote(s string) string { return fmt.Sprintf("%q", s) }

// posOf returns the position of the field at path in the user's file, or of
// its nearest existing parent, or the start of the file.
func posOf(user cue.Value, path, file string) token.Pos {
	p := cue.ParsePath(path)
	sels := p.Selectors()
	for n := len(sels); n > 0; n-- {
		f := user.LookupPath(cue.MakePath(sels[:n]...))
		if f.Exists() {
			if pos := fieldPos(f); pos.IsValid() {
				return pos
			}
		}
	}
	return token.NewFile(file, -1, 1).Pos(0, token.NoRelPos)
}

// fieldPos prefers the position of the value's own field in the user's file.
func fieldPos(v cue.Value) token.Pos {
	if src := v.Source(); src != nil {
		if p := src.Pos(); p.IsValid() {
			return p
		}
	}
	return v.Pos()
}

// locate turns CUE's errors into one positioned error per field of the
// user's spec. CUE reports a bad value against a disjunction once per
// alternative and positions some errors in the embedded schema; users need
// one line naming their file, line and field.
func locate(file string, user cue.Value, err error) error {
	type entry struct {
		path      []string
		msgs      []string
		conflicts []string
		pos       token.Pos
	}
	var order []string
	byPath := map[string]*entry{}
	for _, e := range cueerrors.Errors(err) {
		path := e.Path()
		if len(path) > 0 && path[0] == "#Cluster" {
			path = path[1:]
		}
		path = unquoteLabels(path)
		key := strings.Join(path, ".")
		en := byPath[key]
		if en == nil {
			en = &entry{path: path}
			byPath[key] = en
			order = append(order, key)
		}
		for _, p := range cueerrors.Positions(e) {
			if p.Filename() == file && !en.pos.IsValid() {
				en.pos = p
			}
		}
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if strings.HasPrefix(msg, "conflicting values ") && len(args) == 2 {
			en.conflicts = append(en.conflicts, fmt.Sprint(args[0]))
			continue
		}
		en.msgs = append(en.msgs, msg)
	}
	var out cueerrors.Error
	for _, key := range order {
		en := byPath[key]
		qp := quotePath(en.path)
		uv := user.LookupPath(cue.ParsePath(qp))
		exists := len(en.path) > 0 && uv.Exists()
		if !en.pos.IsValid() || exists {
			en.pos = posOf(user, qp, file)
		}
		var msg string
		switch {
		case !exists && len(en.path) > 0 && anyContains(en.msgs, "incomplete value"):
			msg = "required field is missing"
		case anyContains(en.msgs, "field not allowed"):
			msg = "field not allowed (not part of the zkstage schema)"
		case anyContains(en.msgs, "out of bound"):
			msg = firstContaining(en.msgs, "out of bound")
		case len(en.conflicts) > 1:
			sort.Strings(en.conflicts)
			msg = fmt.Sprintf("invalid value %v (must be one of %s)", uv, strings.Join(en.conflicts, ", "))
		case len(en.conflicts) == 1:
			msg = fmt.Sprintf("invalid value %v (must be %s)", uv, en.conflicts[0])
		case len(en.msgs) > 0:
			msg = en.msgs[0]
		default:
			continue
		}
		out = cueerrors.Append(out, &pathError{pos: en.pos, path: en.path, msg: msg})
	}
	return out
}

// unquoteLabels strips the quotes CUE puts around labels such as "zk1-dc1".
func unquoteLabels(path []string) []string {
	out := make([]string, len(path))
	for i, p := range path {
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		}
		out[i] = p
	}
	return out
}

func anyContains(msgs []string, sub string) bool { return firstContaining(msgs, sub) != "" }

func firstContaining(msgs []string, sub string) string {
	for _, m := range msgs {
		if strings.Contains(m, sub) {
			return m
		}
	}
	return ""
}

// quotePath turns an error path (unquoted labels) back into a CUE path.
func quotePath(path []string) string {
	q := make([]string, len(path))
	for i, p := range path {
		q[i] = quote(p)
	}
	return strings.Join(q, ".")
}

// pathError is a positioned error about a field of the user's spec.
type pathError struct {
	pos  token.Pos
	path []string
	msg  string
}

var _ cueerrors.Error = (*pathError)(nil)

func (e *pathError) Position() token.Pos          { return e.pos }
func (e *pathError) InputPositions() []token.Pos  { return nil }
func (e *pathError) Error() string                { return joinPath(e.path) + ": " + e.msg }
func (e *pathError) Path() []string               { return e.path }
func (e *pathError) Msg() (string, []interface{}) { return "%s", []interface{}{e.msg} }

// fieldErr builds a positioned error for a field path such as
// hosts."zk1".myid.
func fieldErr(pos token.Pos, path []string, format string, args ...interface{}) cueerrors.Error {
	return &pathError{pos: pos, path: path, msg: fmt.Sprintf(format, args...)}
}
