// Command zkstage compiles a ZooKeeper cluster spec into staged, verified
// membership changes. See the README and `zkstage help`.
package main

import (
	"os"

	"github.com/zkstage/zkstage/cmd/zkstage/cli"
)

func main() { os.Exit(cli.Main()) }
