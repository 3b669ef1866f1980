package verify

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Status of one check.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Warn Status = "warn"
	// Unknown is a check that could not be observed (membership on 3.4, a
	// member that did not answer). It is never counted as a pass.
	Unknown Status = "unknown"
)

// Check is one verdict with the evidence it rests on.
type Check struct {
	Name     string   `json:"name"`
	Host     string   `json:"host,omitempty"`
	Status   Status   `json:"status"`
	Message  string   `json:"message"`
	Evidence []string `json:"evidence,omitempty"`
	// Source says where a fact that could not be observed comes from
	// (journal, runner, declared); empty for what was observed.
	Source string `json:"source,omitempty"`
	// Problems are the specific failures behind a failed check that covers
	// several members or counters, one line each, naming the host.
	Problems []string `json:"problems,omitempty"`
}

// Report is the result of one verification round.
type Report struct {
	Cluster   string        `json:"cluster"`
	Version   string        `json:"version"`
	Stage     int           `json:"stage"`
	StageName string        `json:"stageName"`
	Leader    string        `json:"leader,omitempty"`
	Checks    []Check       `json:"checks"`
	Duration  time.Duration `json:"durationNs"`
	// AcceptUnknown echoes Options.AcceptUnknown.
	AcceptUnknown bool `json:"acceptUnknown,omitempty"`
}

// OK reports whether the stage verifies: no failed check, and no check that
// could not be observed unless the caller accepted those.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status == Fail || (c.Status == Unknown && !r.AcceptUnknown) {
			return false
		}
	}
	return true
}

// Problems lists the checks that keep the report from being OK.
func (r *Report) Problems() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail || (c.Status == Unknown && !r.AcceptUnknown) {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many checks have the status.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Find returns the first check with the name (and host, when given).
func (r *Report) Find(name, host string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name && (host == "" || r.Checks[i].Host == host) {
			return &r.Checks[i]
		}
	}
	return nil
}

func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

// Title is the check's name with its host.
func (c Check) Title() string {
	if c.Host != "" {
		return c.Name + " " + c.Host
	}
	return c.Name
}

// WriteText prints the report for people: one line per check, evidence
// indented under it, and a verdict line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s (ZooKeeper %s), stage %02d %s\n", r.Cluster, r.Version, r.Stage, r.StageName)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-7s %s: %s\n", strings.ToUpper(string(c.Status)), c.Title(), c.Message)
		if c.Source != "" {
			// Not observed: say so on its own line, where a reviewer looks.
			fmt.Fprintf(&b, "        source: %s (not observed on the servers)\n", c.Source)
		}
		for _, e := range c.Evidence {
			fmt.Fprintf(&b, "        %s\n", e)
		}
	}
	verdict := "OK: the live ensemble is at this stage"
	if !r.OK() {
		verdict = fmt.Sprintf("NOT OK: %d check(s) failed or could not be observed", len(r.Problems()))
	}
	fmt.Fprintf(&b, "%s (%d pass, %d warn, %d fail, %d unknown, %s)\n", verdict,
		r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Unknown), r.Duration.Round(time.Millisecond))
	_, err := io.WriteString(w, b.String())
	return err
}
