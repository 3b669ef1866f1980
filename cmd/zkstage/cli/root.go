// Package cli is zkstage's command line: argument parsing, output selection
// and exit codes. Each subcommand lives in its own file and registers itself;
// the work is done by the library packages, which never print or exit.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes shared by every subcommand (etcdctl-style typed exits). The
// table below is the one place they are described: `zkstage help
// exit-codes` prints it, and the README copies it.
const (
	ExitOK          = 0 // success
	ExitCheck       = 1 // a check failed, or drift was found
	ExitUsage       = 2 // usage or input error
	ExitEnv         = 3 // the environment is missing something (see exitCodes)
	ExitInterrupted = 4 // SIGINT or SIGTERM stopped a roll or bench
)

// exitCodes documents every exit code, in order; Detail is wrapped for a
// terminal, one line per element.
var exitCodes = []struct {
	Code   int
	Name   string
	Detail []string
}{
	{ExitOK, "ok", []string{"success"}},
	{ExitCheck, "check failed", []string{
		"a check failed or drift was found: a vet or verify",
		"finding, a stale render --check, a roll step refused,",
		"failing (the --exec command's own non-zero status) or not",
		"passing its gate, acknowledged writes lost"}},
	{ExitUsage, "usage", []string{
		"usage or input error: unknown flag, malformed spec, bad",
		"stage number, dirty repository, unknown remote"}},
	{ExitEnv, "environment", []string{
		"the environment, not the input, is at fault: java or",
		"ZooKeeper missing (or of another release line) for lab and",
		"bench; the --exec command not runnable (no sh, or sh's",
		"status 126 or 127: not executable, not found); a git",
		"repository or push failure (credentials missing or",
		"refused, remote unreachable)"}},
	{ExitInterrupted, "interrupted", []string{
		"SIGINT or SIGTERM stopped a roll or bench: the running",
		"step's command was killed and no further step started"}},
}

// Env is what a command may touch: its streams and arguments.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Args   []string
}

// Command is one subcommand.
type Command struct {
	Name    string
	Usage   string // one line: "plan DIR [-o text|json|markdown]"
	Short   string // one sentence for the command list
	Long    string // the help text after the usage line
	Example string // full command lines, one a line
	Flags   func(fs *pflag.FlagSet)
	Run     func(env *Env, fs *pflag.FlagSet) error
	Aliases []string
}

var commands = map[string]*Command{}

// register adds a subcommand; called from each command file's init.
func register(c *Command) {
	commands[c.Name] = c
	for _, a := range c.Aliases {
		commands[a] = c
	}
}

// exitError carries an exit code with an optional message for stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErr is a usage or input error (exit 2).
func usageErr(format string, args ...interface{}) error {
	return &exitError{code: ExitUsage, msg: fmt.Sprintf(format, args...)}
}

// checkFailed is a failed check (exit 1); the details are already printed.
func checkFailed(format string, args ...interface{}) error {
	return &exitError{code: ExitCheck, msg: fmt.Sprintf(format, args...)}
}

// envErr is an environment error (exit 3): something the machine lacks or
// refuses, which no change to the arguments or the spec would fix.
func envErr(format string, args ...interface{}) error {
	return &exitError{code: ExitEnv, msg: fmt.Sprintf(format, args...)}
}

// interrupted is a roll or bench stopped by SIGINT or SIGTERM (exit 4), as
// opposed to one that failed on its own (exit 1).
func interrupted(format string, args ...interface{}) error {
	return &exitError{code: ExitInterrupted, msg: fmt.Sprintf(format, args...)}
}

// printExitCodes writes the exit code table.
func printExitCodes(w io.Writer) {
	fmt.Fprintln(w, "exit codes (every command):")
	for _, e := range exitCodes {
		fmt.Fprintf(w, "  %d  %-14s%s\n", e.Code, e.Name, e.Detail[0])
		for _, l := range e.Detail[1:] {
			fmt.Fprintf(w, "     %-14s%s\n", "", l)
		}
	}
}

// Main runs zkstage with os.Args and returns the exit code.
func Main() int {
	return Run(os.Args[1:], os.Stdout, os.Stderr)
}

// Run runs one zkstage invocation; tests call it directly.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printCommands(stderr)
		return ExitUsage
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		name = "help"
	}
	if name == "--version" {
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "zkstage: unknown command %q\n", name)
		printCommands(stderr)
		return ExitUsage
	}
	fs := pflag.NewFlagSet("zkstage "+c.Name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if c.Flags != nil {
		c.Flags(fs)
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printUsage(stdout, c, fs)
			return ExitOK
		}
		fmt.Fprintf(stderr, "zkstage %s: %v\n", c.Name, err)
		fmt.Fprintf(stderr, "usage: zkstage %s\n", c.Usage)
		return ExitUsage
	}
	env := &Env{Stdout: stdout, Stderr: stderr, Args: fs.Args()}
	err := c.Run(env, fs)
	return exitCode(stderr, c.Name, err)
}

// exitCode prints an error once, positions first, and maps it to an exit code.
func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "zkstage %s: %s\n", name, ee.msg)
		}
		return ee.code
	}
	printError(stderr, err)
	return ExitUsage
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "usage: zkstage <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	var names []string
	for n, c := range commands {
		if n == c.Name {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].Short)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'zkstage help <command>' for details, 'zkstage help exit-codes' for the exit codes.")
}

func printUsage(w io.Writer, c *Command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "usage: zkstage %s\n\n", c.Usage)
	if c.Long != "" {
		fmt.Fprintln(w, strings.TrimSpace(c.Long))
		fmt.Fprintln(w)
	}
	if fs.HasFlags() {
		fmt.Fprintln(w, "flags:")
		fmt.Fprint(w, fs.FlagUsages())
		fmt.Fprintln(w)
	}
	if c.Example != "" {
		fmt.Fprintln(w, "examples:")
		for _, l := range strings.Split(strings.TrimSpace(c.Example), "\n") {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(l))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, exitCodesFooter())
}

// exitShort is each code in one line, for the end of every help page.
var exitShort = map[int]string{
	ExitOK:          "ok",
	ExitCheck:       "a check failed, or drift was found",
	ExitUsage:       "usage or input error (the message names the file, line and field, or the path)",
	ExitEnv:         "environment error: ZooKeeper, java, the --exec command or git missing or failing",
	ExitInterrupted: "interrupted by SIGINT or SIGTERM",
}

// exitCodesFooter ends every help page: one line per code of the table.
func exitCodesFooter() string {
	var b strings.Builder
	b.WriteString("exit codes:\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %d  %s\n", e.Code, exitShort[e.Code])
	}
	b.WriteString("  (zkstage help exit-codes says more)\n")
	return b.String()
}
