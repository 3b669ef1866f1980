package schema

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/zkstage/zkstage/internal/fileio"
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

// MaxSpecBytes is the largest cluster.cue zkstage reads: a spec of 255
// hosts is about 30 kB.
const MaxSpecBytes = 1 << 20

// MaxErrors is the most errors a load reports; the count of the others is
// the last entry.
const MaxErrors = 50

// Load reads, unifies with the schema, validates and decodes a cluster spec.
// The error, when not nil, is a cue errors.Error list whose entries carry
// positions in the user's file; warnings are returned even on success.
// Only a regular file of at most MaxSpecBytes is read.
func Load(dirOrFile string) (*Cluster, []Warning, error) {
	file := SpecFile(dirOrFile)
	src, err := fileio.ReadRegular(file, MaxSpecBytes)
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

	if err := checkText(file, src); err != nil {
		return nil, nil, err
	}
	f, err := parser.ParseFile(file, src, parser.ParseComments)
	if err != nil {
		return nil, nil, capErrors(err)
	}
	user := ctx.BuildFile(f)
	if err := user.Err(); err != nil {
		return nil, nil, locate(file, user, err)
	}
	v := def.Unify(user)
	if err := v.Validate(cue.Concrete(true), cue.All()); err != nil {
		return nil, nil, locate(file, user, err)
	}
	if err := checkNumbers(file, user, v); err != nil {
		return nil, nil, err
	}

	var c Cluster
	if err := v.Decode(&c); err != nil {
		return nil, nil, locate(file, user, err)
	}
	c.File = file
	if !c.Version.Dynamic() && !user.LookupPath(cue.ParsePath("settings.clientBind")).Exists() {
		// 3.4 binds the client port to every interface unless zoo.cfg
		// names clientPortAddress: that is what a 3.4 spec means unless
		// it says "address".
		c.Settings.ClientBind = "any"
	}
	if c.Policy.Method != MethodReconfig {
		// Only dynamic reconfiguration reads these: cleared for rolling so
		// that a rolling spec decodes (and hashes, see render.SpecHash) as
		// it did before they existed.
		c.Policy.ReconfigAuth, c.Settings.ConfigDir = "", ""
	}
	c.PolicyPos = posOf(user, "policy", file)
	c.ReservePos = posOf(user, "policy.reserve", file)
	// A refusal about the method or the renumbering points at the field,
	// else at the policy; a spec without a policy block is about its
	// hosts, never about line 1.
	c.MethodPos = posOfFirst(user, file, "policy.method", "policy", "hosts")
	c.RenumberPos = posOfFirst(user, file, "policy.renumber", "policy", "hosts")
	for name, d := range c.Datacenters {
		d.Name = name
		d.Pos = posOf(user, "datacenters."+quote(name), file)
		d.LeaderPos = posOf(user, "datacenters."+quote(name)+".leader", file)
	}
	for name, h := range c.Hosts {
		h.Name = name
		h.Pos = posOf(user, "hosts."+quote(name), file)
		h.RemovePos = posOf(user, "hosts."+quote(name)+".remove", file)
		h.MyIDPos = posOf(user, "hosts."+quote(name)+".myid", file)
		h.RolePos = posOf(user, "hosts."+quote(name)+".role", file)
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

// checkText refuses what is not a spec before CUE reads it: a file over
// MaxSpecBytes, bytes that are not UTF-8 and control characters other than
// tab and line breaks (CUE reports each NUL byte on its own, at a cost that
// grows with the square of their number). One error: the first offender.
func checkText(file string, src []byte) error {
	tf := token.NewFile(file, -1, len(src))
	tf.SetLinesForContent(src)
	if len(src) > MaxSpecBytes {
		return fieldErr(tf.Pos(0, token.NoRelPos), nil, "the spec is %d bytes, more than the limit of %d", len(src), MaxSpecBytes)
	}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		var what string
		switch {
		case r == utf8.RuneError && n <= 1:
			what = fmt.Sprintf("byte 0x%02x is not UTF-8", src[i])
		case r == 0:
			what = "NUL byte"
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			what = fmt.Sprintf("control character U+%04X", r)
		}
		if what != "" {
			return fieldErr(tf.Pos(i, token.NoRelPos), nil, "%s: a spec is UTF-8 text (write control characters in strings as escapes such as \\u0000)", what)
		}
		i += n
	}
	return nil
}

// capErrors keeps the first MaxErrors errors of a list and says how many
// more there were.
func capErrors(err error) error {
	list := cueerrors.Errors(err)
	if len(list) <= MaxErrors {
		return err
	}
	var out cueerrors.Error
	for _, e := range list[:MaxErrors] {
		out = cueerrors.Append(out, e)
	}
	return cueerrors.Append(out, fieldErr(token.NoPos, nil, "and %d more errors", len(list)-MaxErrors))
}

// checkNumbers refuses numbers CUE accepts (its integers have no bound)
// but Go's int cannot hold: a myid, and the version's parts.
func checkNumbers(file string, user, v cue.Value) error {
	var errs cueerrors.Error
	if s, err := v.LookupPath(cue.ParsePath("version")).String(); err == nil {
		if _, err := ParseVersion(s); err != nil {
			errs = cueerrors.Append(errs, fieldErr(posOf(user, "version", file), []string{"version"}, "%v", err))
		}
	}
	hosts, err := v.LookupPath(cue.ParsePath("hosts")).Fields()
	if err != nil {
		return nil
	}
	for hosts.Next() {
		name := hosts.Selector().Unquoted()
		id := hosts.Value().LookupPath(cue.ParsePath("myid"))
		if !id.Exists() {
			continue
		}
		if _, err := id.Int64(); err != nil {
			path := []string{"hosts", name, "myid"}
			errs = cueerrors.Append(errs, fieldErr(posOf(user, quotePath(path), file), path, "myid %v out of range (at most 255)", id))
		}
	}
	return errs
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

// posOfFirst is the position of the first of paths the user's spec has, else
// the file.
func posOfFirst(user cue.Value, file string, paths ...string) token.Pos {
	for _, path := range paths {
		if f := user.LookupPath(cue.ParsePath(path)); f.Exists() {
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
			if twice := userPositions(e, file); len(twice) > 1 {
				// Both values are the user's: a field defined twice.
				en.pos = twice[len(twice)-1]
				en.msgs = append(en.msgs, fmt.Sprintf("defined twice with different values: %v at %s and %v at %s", args[1], lineCol(twice[0]), args[0], lineCol(twice[len(twice)-1])))
				continue
			}
			en.conflicts = append(en.conflicts, fmt.Sprint(args[0]))
			continue
		}
		if strings.Contains(format, "(mismatched types %s and %s)") && len(args) == 4 {
			en.msgs = append(en.msgs, fmt.Sprintf("invalid value %v: want %s, not %s", args[0], typeName(args[3]), typeName(args[2])))
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
		case anyContains(en.msgs, "defined twice"):
			msg = firstContaining(en.msgs, "defined twice")
		case anyContains(en.msgs, "out of bound =~") && patternHelp[key] != "":
			msg = fmt.Sprintf("invalid value %v (%s)", uv, patternHelp[key])
		case anyContains(en.msgs, "out of bound"):
			msg = firstContaining(en.msgs, "out of bound")
		case anyContains(en.msgs, ": want "):
			msg = firstContaining(en.msgs, ": want ")
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
	if out == nil {
		// Never an empty refusal: CUE's own text, at the file.
		return &pathError{pos: posOf(user, "", file), msg: strings.TrimSpace(err.Error())}
	}
	return capErrors(out)
}

// patternHelp says in words what the schema's regular expressions want.
var patternHelp = map[string]string{
	"name":    "a cluster name is lower-case letters, digits and '-', starting with a letter or digit",
	"version": "want a ZooKeeper release from 3.4.0 on, MAJOR.MINOR.PATCH, e.g. \"3.8.0\"",
}

// userPositions lists the error's positions in the user's file.
func userPositions(e cueerrors.Error, file string) []token.Pos {
	var out []token.Pos
	for _, p := range cueerrors.Positions(e) {
		if p.Filename() == file {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Offset() < out[j].Offset() })
	return out
}

func lineCol(p token.Pos) string { return fmt.Sprintf("%d:%d", p.Line(), p.Column()) }

// typeName writes a CUE kind for a user: "int" becomes "a number (int)".
func typeName(kind interface{}) string {
	switch k := fmt.Sprint(kind); k {
	case "int", "number", "float":
		return "a number (" + k + ", without quotes)"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct":
		return "a struct {...}"
	default:
		return k
	}
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
