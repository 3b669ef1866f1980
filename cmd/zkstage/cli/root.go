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

// Exit codes shared by every subcommand (etcdctl-style typed exits).
const (
	ExitOK    = 0 // success
	ExitCheck = 1 // a check failed, or drift was found
	ExitUsage = 2 // usage or input error
)

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
	fmt.Fprintln(w, "Run 'zkstage help <command>' for details.")
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
	fmt.Fprint(w, exitCodes)
}

// exitCodes ends every help page.
const exitCodes = `exit codes:
  0  ok
  1  a check failed, or drift was found
  2  usage or input error (the message names the file, line and field, or the path)
`
