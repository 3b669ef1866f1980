package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/zkstage/zkstage/journal"
	"github.com/zkstage/zkstage/render"
)

// fromJournal fills in, for a version that cannot show membership (3.4),
// where each host's membership is known from: the journal's record of the
// host's last step, or stage 0 for a host that has had no step since. A host
// whose step nothing records keeps no source, and the hint says how to
// acknowledge it.
func fromJournal(ctx context.Context, m *render.Manifest, opts Options, exp *Expectation, probes []*Probe) {
	last, known := history(m)
	var servers []string
	for i, p := range probes {
		if p.Serving() {
			servers = append(servers, clientAddr(exp.Hosts[i].Member))
		}
	}
	var log *journal.Log
	var readErr error
	needed := false
	for _, x := range exp.Hosts {
		if _, ok := last[x.Member.Host]; ok {
			needed = true
		}
	}
	if needed && len(servers) > 0 {
		log, readErr = journal.Read(ctx, servers, m.Cluster, opts.timeout())
	}
	unrecorded := map[int]bool{}
	for i := range exp.Hosts {
		x := &exp.Hosts[i]
		j, ok := last[x.Member.Host]
		if !ok {
			if known {
				x.Source = SourceDeclared
				x.Record = "no step since stage 0, the ensemble as the spec declares it today"
			} else {
				unrecorded[m.Stage] = true
			}
			continue
		}
		if r := log.Find(m.Fingerprint, j, x.Member.Host); r != nil {
			x.Source, x.Record = SourceJournal, r.String()
			continue
		}
		unrecorded[j] = true
	}
	if len(unrecorded) == 0 {
		return
	}
	var stages []int
	for j := range unrecorded {
		stages = append(stages, j)
	}
	sort.Ints(stages)
	dir := opts.Dir
	if dir == "" {
		dir = "DIR"
	}
	var acks []string
	for _, j := range stages {
		acks = append(acks, fmt.Sprintf("zkstage journal ack %s --stage %d", dir, j))
	}
	hint := fmt.Sprintf("the rollout journal (%s) has no record of it; if the step was done by hand, check that host's zoo.cfg and myid, then acknowledge: %s",
		journal.Path(m.Cluster), strings.Join(acks, "; "))
	switch {
	case readErr != nil:
		hint = fmt.Sprintf("the rollout journal could not be read (%v); if the step was done by hand, acknowledge it: %s", readErr, strings.Join(acks, "; "))
	case len(servers) == 0:
		hint = "no serving member to read the rollout journal from"
	}
	if others := log.OtherPlans(m.Fingerprint, m.Stage); len(others) > 0 {
		hint += fmt.Sprintf(" (the journal has records of stage %d from another plan, fingerprint %s: the spec was re-planned since)", m.Stage, strings.Join(others, ", "))
	}
	exp.Unrecorded = hint
}

// history is each host's last step stage from the manifest (stage.json's
// lastStep). A manifest without it (written before it existed, or built
// by hand) still tells it for stages 0 and 1, from its own steps; known is
// false when a host without a step there may have had one earlier.
func history(m *render.Manifest) (last map[string]int, known bool) {
	if m.LastStep != nil {
		return m.LastStep, true
	}
	last = map[string]int{}
	for _, s := range m.Steps {
		last[s.Host] = m.Stage
	}
	return last, m.Stage <= 1
}
