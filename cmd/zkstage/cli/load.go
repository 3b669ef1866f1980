package cli

import (
	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
)

// loadPlan loads a cluster directory, prints its warnings and plans it. Any
// error is an input error (exit 2) printed with positions by exitCode().
func loadPlan(env *Env, dir string) (*schema.Cluster, *compiler.Plan, []schema.Warning, error) {
	c, warns, err := schema.Load(dir)
	printWarnings(env, warns)
	if err != nil {
		return nil, nil, warns, err
	}
	p, err := compiler.Compile(c)
	if err != nil {
		return nil, nil, warns, err
	}
	return c, p, warns, nil
}

// oneDir returns the single cluster directory argument.
func oneDir(env *Env, cmd string) (string, error) {
	if len(env.Args) != 1 {
		return "", usageErr("%s needs exactly one cluster directory (got %d arguments)", cmd, len(env.Args))
	}
	return env.Args[0], nil
}
