package gitops_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/zkstage/zkstage/cmd/zkstage/cli"
)

// TestExampleWorkflow keeps the users' example workflow from rotting: it
// must be valid YAML with both jobs, and every zkstage command in it must
// name a real subcommand and only flags that subcommand has.
func TestExampleWorkflow(t *testing.T) {
	src, err := os.ReadFile("example-workflow.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			RunsOn interface{} `yaml:"runs-on"`
			Steps  []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(src, &wf); err != nil {
		t.Fatalf("example-workflow.yml: %v", err)
	}
	for _, job := range []string{"offline", "live"} {
		if _, ok := wf.Jobs[job]; !ok {
			t.Errorf("job %q missing", job)
		}
	}
	cmdRE := regexp.MustCompile(`zkstage ([a-z]+)([^|&]*)`)
	flagRE := regexp.MustCompile(`(?:^|\s)(--?[a-z-]+)`)
	seen := map[string]bool{}
	for name, job := range wf.Jobs {
		for _, s := range job.Steps {
			for _, m := range cmdRE.FindAllStringSubmatch(s.Run, -1) {
				var help bytes.Buffer
				if code := cli.Run([]string{"help", m[1]}, &help, &help); code != 0 {
					t.Errorf("job %s: zkstage %s: no such command", name, m[1])
					continue
				}
				seen[m[1]] = true
				for _, f := range flagRE.FindAllStringSubmatch(m[2], -1) {
					flag := f[1]
					if flag == "-o" {
						flag = "--output"
					}
					if !strings.Contains(help.String(), flag+" ") {
						t.Errorf("job %s: zkstage %s has no flag %s", name, m[1], f[1])
					}
				}
			}
		}
	}
	if !seen["gate"] || !seen["vet"] {
		t.Errorf("the example runs %v, want vet and gate", seen)
	}
	if !strings.Contains(string(src), "--offline") || !strings.Contains(string(src), "self-hosted") {
		t.Error("the example must run the offline gate and the live gate on a self-hosted runner")
	}
}
