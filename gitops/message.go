package gitops

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/report"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// How a stage commit relates to the base branch.
const (
	// EntryNext: the base is at stage k-1 of the same plan.
	EntryNext = "next"
	// EntryAdopt: the base has no rendered files yet; the commit holds stage
	// 0, the ensemble as it runs today.
	EntryAdopt = "adopt"
	// EntryReplan: the spec changed; the commit holds the stage of the new
	// plan that describes the ensemble the base is at, so the membership does
	// not change, only the plan the files belong to.
	EntryReplan = "replan"
	// EntrySettings: the spec's settings changed, not its plan; the commit
	// holds the stage the base is at, rendered with the new settings, so
	// that no membership stage changes the zoo.cfg of a host it does not
	// restart. Its roll restarts every member (zkstage roll --settings).
	EntrySettings = "settings"
)

// FileChange is one file that differs between two stages' rendered folders.
type FileChange struct {
	Path   string `json:"path"`   // relative to the rendered folder
	Status string `json:"status"` // added | deleted | modified
}

// diffFiles compares two rendered folders (path -> bytes), in path order.
func diffFiles(old, new map[string][]byte) []FileChange {
	status := map[string]string{"missing": "added", "changed": "modified", "extra": "deleted"}
	var out []FileChange
	for _, d := range render.CompareFiles(new, old) {
		out = append(out, FileChange{d.Path, status[d.Status]})
	}
	return out
}

// settingsChanged reports whether a modified zoo.cfg differs in more than
// its comments (the rendered header names the plan and the stage): only
// then must the host be restarted to run it.
func settingsChanged(old, new []byte) bool {
	strip := func(b []byte) string {
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			t := strings.TrimSpace(l)
			if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "!") {
				continue
			}
			keep = append(keep, t)
		}
		return strings.Join(keep, "\n")
	}
	return strip(old) != strip(new)
}

// hostOf returns the host folder of a rendered path ("" for stage.json).
func hostOf(p string) string {
	h, _, ok := strings.Cut(p, "/")
	if !ok {
		return ""
	}
	return h
}

// message is what a stage commit's message is made of.
type message struct {
	c     *schema.Cluster
	p     *compiler.Plan
	k     int
	dir   string // the cluster folder, repository-relative, for commands
	base  string // the base branch
	entry string
	// baseMan is the base's manifest (nil when the base has none).
	baseMan *render.Manifest
	// prev and cur are the rendered folders before and after this commit.
	prev, cur map[string][]byte
	// warnings are the spec's and the plan's (Warnings).
	warnings []string
	// settings is, for EntrySettings, the settings roll of stage k.
	settings *compiler.Stage
}

// Title is the pull request's title: the commit's first line.
func Title(cluster string, k int, name string) string {
	return fmt.Sprintf("zkstage(%s): stage %02d %s", cluster, k, name)
}

// text renders the commit message: the pull request's description in
// GitHub markdown. It holds no time and no hash of a commit, so the same
// plan always gives the same message.
func (m *message) text() string {
	st := &m.p.Stages[m.k]
	last := len(m.p.Stages) - 1
	var b strings.Builder
	name := st.Name
	if m.settings != nil {
		name = m.settings.Name
	}
	fmt.Fprintf(&b, "%s\n\n", Title(m.c.Name, m.k, name))
	rendered := m.dir + "/" + RenderedDir
	switch m.entry {
	case EntryAdopt:
		fmt.Fprintf(&b, "Adopts zkstage for cluster `%s`: `%s` gets the files of stage 00, the ensemble as it runs today, of plan `%s` (%d stages after today). No membership change.\n\n",
			m.c.Name, rendered, m.p.Fingerprint, last)
	case EntryReplan:
		fmt.Fprintf(&b, "Re-plans cluster `%s`: the spec changed (plan `%s` → `%s`). `%s` moves from stage %02d of the old plan to stage %02d %s of the new one, which describes the same ensemble. No membership change.\n\n",
			m.c.Name, m.baseMan.Fingerprint, m.p.Fingerprint, rendered, m.baseMan.Stage, m.k, st.Name)
	case EntrySettings:
		fmt.Fprintf(&b, "New settings for cluster `%s`: the spec's settings changed, its plan `%s` did not. `%s` stays at stage %02d %s, rendered with the new settings, before the next stage changes any membership. No membership change.\n\n",
			m.c.Name, m.p.Fingerprint, rendered, m.k, st.Name)
	default:
		fmt.Fprintf(&b, "Moves `%s` from stage %02d %s to stage %02d %s of plan `%s` (stage %d of %d).\n\n",
			rendered, m.k-1, m.p.Stages[m.k-1].Name, m.k, st.Name, m.p.Fingerprint, m.k, last)
	}

	if len(m.warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		b.WriteString("`zkstage vet` and the planner warn about this spec; read them before approving:\n\n")
		for _, w := range m.warnings {
			fmt.Fprintf(&b, "- %s\n", w)
		}
		b.WriteString("\n")
	}

	b.WriteString("## What changes\n\n")
	m.changes(&b)

	b.WriteString("\n## Why it is safe\n\n")
	shown := m.p
	switch {
	case m.entry == EntryNext:
		fmt.Fprintf(&b, "Every step below was simulated: no step lets two leaders exist, and the smallest availability margin is %d (policy reserve %d). The margin is the slack, in live voters, of the rule the step relies on.\n\n",
			st.MinMargin, m.p.Policy.Reserve)
	case m.settings != nil:
		fmt.Fprintf(&b, "The membership does not change. The settings roll below restarts every member once, ascending id, the live leader last, each step gated; it was simulated like any stage: no step lets two leaders exist, and the smallest availability margin is %d (policy reserve %d).\n\n",
			m.settings.MinMargin, m.p.Policy.Reserve)
		// The steps shown are the settings roll's, not the stage's own.
		pp := *m.p
		pp.Stages = append([]compiler.Stage{}, m.p.Stages...)
		pp.Stages[m.k] = *m.settings
		shown = &pp
	default:
		b.WriteString("The membership does not change, so no step can lose quorum; the gate checks that the live ensemble is the one these files describe before this merges.\n\n")
	}
	var sm bytes.Buffer
	report.StageMarkdown(&sm, shown, m.k, 3)
	b.WriteString(strings.TrimRight(sm.String(), "\n"))
	b.WriteString("\n\n## Runbook\n\n")
	m.runbook(&b)

	b.WriteString("\n## What the gate checks\n\n")
	fmt.Fprintf(&b, "`zkstage gate %s --base %s` must pass before this merges:\n\n", m.dir, m.base)
	fmt.Fprintf(&b, "1. the files under `%s` are exactly what `%s/cluster.cue` compiles to for stage %02d;\n", rendered, m.dir, m.k)
	switch m.entry {
	case EntryAdopt:
		fmt.Fprintf(&b, "2. `%s` has no rendered stage yet, so this pull request must be stage 00;\n", m.base)
		b.WriteString("3. the live ensemble verifies as stage 00 (")
		m.expect(&b, 0)
		b.WriteString(").\n")
	case EntrySettings:
		fmt.Fprintf(&b, "2. `%s` is at stage %02d of the same plan `%s`, rendered from another spec: this is that stage with the new settings;\n", m.base, m.k, m.p.Fingerprint)
		fmt.Fprintf(&b, "3. the live ensemble verifies as stage %02d (", m.k)
		m.expect(&b, m.k)
		b.WriteString(").\n")
	case EntryReplan:
		fmt.Fprintf(&b, "2. `%s` is at stage %02d of plan `%s`, and stage %02d of the new plan `%s` describes the same members and live hosts;\n",
			m.base, m.baseMan.Stage, m.baseMan.Fingerprint, m.k, m.p.Fingerprint)
		fmt.Fprintf(&b, "3. the live ensemble verifies as the base's stage %02d (", m.baseMan.Stage)
		m.expect(&b, m.k)
		b.WriteString(").\n")
	default:
		fmt.Fprintf(&b, "2. `%s` is at stage %02d of the same plan `%s` (this is stage %02d);\n", m.base, m.k-1, m.p.Fingerprint, m.k)
		fmt.Fprintf(&b, "3. the live ensemble verifies as stage %02d (", m.k-1)
		m.expect(&b, m.k-1)
		b.WriteString("): the previous stage has been rolled out.\n")
	}

	b.WriteString("\n## Stages\n\n")
	b.WriteString(report.MermaidStages(m.p, m.k))
	b.WriteString("\n")
	return b.String()
}

// expect summarises what verify expects live at the end of stage k.
func (m *message) expect(b *strings.Builder, k int) {
	st := &m.p.Stages[k]
	live := map[string]bool{}
	for _, h := range st.Live {
		live[h] = true
	}
	var ms []string
	for _, mem := range st.Members {
		if live[mem.Host] {
			ms = append(ms, fmt.Sprintf("%s=%d", mem.Host, mem.ID))
		}
	}
	fmt.Fprintf(b, "%s serving with the %d-member configuration, one leader", strings.Join(ms, ", "), len(st.Members))
	man := render.NewManifest(m.c, m.p, k)
	if len(man.LeaderDatacenters) > 0 {
		fmt.Fprintf(b, " in %s", strings.Join(man.LeaderDatacenters, " or "))
	}
}

func (m *message) changes(b *strings.Builder) {
	st := &m.p.Stages[m.k]
	n := 0
	if m.entry == EntryNext { // otherwise the base already runs the new ids
		for _, r := range st.Renamed {
			fmt.Fprintf(b, "- renamed: `%s` id %d → %d\n", r.Host, r.From, r.To)
			n++
		}
	}
	if m.entry == EntryNext && reconfigKind(st.Kind) {
		m.reconfigChanges(b)
		n++
	} else if m.entry == EntryNext {
		switch st.Kind {
		case compiler.KindGrowStart:
			for _, s := range st.Steps {
				fmt.Fprintf(b, "- starts: `%s` id %d (its files appear)\n", s.Host, s.ID)
				n++
			}
		case compiler.KindShrinkStop:
			for _, mem := range st.Removed {
				fmt.Fprintf(b, "- stops and leaves: `%s` id %d (%s; its files are deleted)\n", mem.Host, mem.ID, mem.Datacenter)
				n++
			}
		default:
			for _, mem := range st.Added {
				fmt.Fprintf(b, "- added to the configuration: `%s` id %d (%s, %s; not started in this stage)\n", mem.Host, mem.ID, mem.Datacenter, mem.Role)
				n++
			}
			for _, mem := range st.Removed {
				fmt.Fprintf(b, "- removed from the configuration: `%s` id %d (%s)\n", mem.Host, mem.ID, mem.Datacenter)
				n++
			}
		}
	}
	if n == 0 {
		b.WriteString("- no member is added, removed or renamed\n")
	}
	v := st.Voters()
	fmt.Fprintf(b, "- configuration: %d members, %d voters, quorum %d\n", len(st.Members), len(v), compiler.Quorum(len(v)))
	changes := diffFiles(m.prev, m.cur)
	if len(changes) == 0 {
		b.WriteString("- files: none change\n")
		return
	}
	fmt.Fprintf(b, "- files under `%s/%s`:\n", m.dir, RenderedDir)
	for _, c := range changes {
		note := ""
		if strings.HasSuffix(c.Path, "/zoo.cfg") && c.Status == "modified" && !settingsChanged(m.prev[c.Path], m.cur[c.Path]) {
			note = " (comments only)"
		}
		fmt.Fprintf(b, "  - %s `%s`%s\n", c.Status, c.Path, note)
	}
}

func (m *message) runbook(b *strings.Builder) {
	st := &m.p.Stages[m.k]
	roll := fmt.Sprintf("zkstage roll %s --stage %d --exec '<your restart command>'", m.dir, m.k)
	if m.entry != EntryNext {
		// The ensemble already runs stage k: the roll restarts its
		// members onto the new settings, it does not replay the steps.
		roll = fmt.Sprintf("zkstage roll %s --stage %d --settings --exec '<your restart command>'", m.dir, m.k)
		var restart []string
		for _, h := range settingsHosts(m.prev, m.cur) {
			restart = append(restart, "`"+h+"`")
		}
		b.WriteString("1. Merge once the gate passes.\n")
		if len(restart) == 0 {
			b.WriteString("2. Nothing to restart: the settings every host runs are unchanged. Config management must not restart all hosts at once on the new files.\n")
			return
		}
		if m.c.Policy.Method == schema.MethodReconfig {
			m.inPlace(b, restart, roll)
			return
		}
		fmt.Fprintf(b, "2. The settings of %s change: roll them one at a time, leader last:\n\n   ```sh\n   %s\n   ```\n", strings.Join(restart, ", "), roll)
		return
	}
	fmt.Fprintf(b, "1. Merge only once the gate passes: the live ensemble must run stage %02d.\n", m.k-1)
	switch st.Kind {
	case compiler.KindGrowStart:
		b.WriteString("2. Config management pulls the files; the new hosts' files appear and it may start them. The roll starts any that are not running, in this order:\n")
	case compiler.KindShrinkStop:
		b.WriteString("2. Config management pulls the files; the leaving hosts' files are deleted. The roll stops them, in this order:\n")
	case compiler.KindReconfigRemove, compiler.KindReconfigAdd, compiler.KindReconfigStop:
		b.WriteString("2. Config management pulls the files: it creates new hosts' files and deletes leaving hosts' files, and never overwrites `zoo.cfg` or the dynamic config files of a running member (ZooKeeper owns them). The roll runs, in this order, each step gated on `/zookeeper/config`, `conf` on every member and the leader's synced learners:\n")
	default:
		b.WriteString("2. Config management pulls the files. A host runs its new configuration only once restarted, in this order, one at a time, each serving again before the next:\n")
	}
	b.WriteString("\n")
	for i, s := range st.Steps {
		id := fmt.Sprintf("id %d", s.ID)
		if s.FromID != nil {
			id = fmt.Sprintf("id %d → %d", *s.FromID, s.ID)
		}
		margin := fmt.Sprintf("margin %d", s.Expected)
		if s.Margin < s.Expected {
			margin += fmt.Sprintf(" (at least %d from any starting leader)", s.Margin)
		}
		then := ""
		if s.LeaderAfter != "" && (i == 0 && s.LeaderAfter != st.Leader || i > 0 && s.LeaderAfter != st.Steps[i-1].LeaderAfter) {
			then = fmt.Sprintf(", then %s leads", s.LeaderAfter)
		}
		fmt.Fprintf(b, "   %d. %s `%s` (%s), %s%s\n", i+1, s.Action, s.Host, id, margin, then)
	}
	if mv := st.MoveLeader; mv != nil {
		fmt.Fprintf(b, "   %d. move-leader: restart `%s` (id %d) again, then %s leads (the leader ended outside the most preferred datacenter; `--keep-leader` skips it)\n", len(st.Steps)+1, mv.Host, mv.ID, mv.LeaderAfter)
	}
	if st.LeaderRule != compiler.LeaderNone {
		fmt.Fprintf(b, "\n   Order: %s. The list is the run when %s leads at the start, as the plan expects; the runner applies the rule to the leader it finds live, so with another leader that host's step moves instead.\n", report.LeaderRuleText(st.LeaderRule), st.Leader)
	}
	fmt.Fprintf(b, "\n3. Roll it:\n\n   ```sh\n   %s\n   ```\n\n", roll)
	if m.k < len(m.p.Stages)-1 {
		fmt.Fprintf(b, "4. The next stage's pull request (stage %02d) can merge once its gate verifies this stage live.\n", m.k+1)
	} else {
		fmt.Fprintf(b, "4. This is the last stage: `zkstage verify` against stage %02d confirms the target is reached.\n", m.k)
	}
}

// inPlace is the settings runbook under reconfig: ZooKeeper keeps each
// member's zoo.cfg (its dynamicConfigFile names the configuration in
// force), so the new settings are edits made in that file, never the file.
func (m *message) inPlace(b *strings.Builder, hosts []string, roll string) {
	fmt.Fprintf(b, "2. The settings of %s change. Config management must not replace `zoo.cfg` (ZooKeeper owns it): it makes these edits in place in each member's `zoo.cfg` (Ansible `lineinfile`, Puppet `file_line`, Salt `file.replace`, Chef `replace_or_add`), and creates no other file:\n\n", strings.Join(hosts, ", "))
	for _, h := range settingsHosts(m.prev, m.cur) {
		path := h + "/zoo.cfg"
		edits, err := zoocfg.Edits(m.prev[path], m.cur[path])
		if err != nil {
			fmt.Fprintf(b, "   - `%s`: %v\n", h, err)
			continue
		}
		var es []string
		for _, e := range edits {
			es = append(es, "`"+e.String()+"`")
		}
		fmt.Fprintf(b, "   - `%s`: %s\n", h, strings.Join(es, ", "))
	}
	fmt.Fprintf(b, "\n3. Then roll them one at a time, leader last:\n\n   ```sh\n   %s\n   ```\n", roll)
}
