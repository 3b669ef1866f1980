package compiler

// LiveHost is a host as observed on the live ensemble while a stage rolls.
type LiveHost struct {
	Name string
	ID   int  // the id it runs now
	OnB  bool // runs the stage's configuration (else the previous stage's)
	Live bool
	// Following: serving under the current leader (or is the leader).
	Following bool
}

// LiveMargin is the margin step s would keep if taken now, from the
// observed state rather than a planned scenario: a host already down or not
// serving lowers it. from and to are the previous and the stage's
// configurations; leader names the live leader. The rollout runner calls it
// before every step, with the same rules the planner simulates.
func LiveMargin(from, to []Member, hosts []LiveHost, leader string, s Step) (int, string) {
	r := liveWorld(from, to, hosts, leader, s).apply(s)
	return r.margin, r.rule
}

// Handover is the host the others elect while s.Host, the live leader, is
// down for its restart, or "" when s is not the leader's restart or the
// others cannot elect without it. The simulator's rule 3 assumes exactly
// that order (the leader goes away, the others elect, it comes back and
// follows); a plain restart races it instead: a leader whose JVM is back
// before the others agree takes part in their election and, holding the
// highest id, wins it (seen on 3.5.10 when the remaining voters were
// exactly a quorum). So the runner stops such a leader, waits for this
// election, and only then starts it (rollout.runner.exec).
func Handover(from, to []Member, hosts []LiveHost, leader string, s Step) string {
	if s.Action != Restart || s.Host != leader {
		return ""
	}
	w := liveWorld(from, to, hosts, leader, s)
	h := w.byName[s.Host]
	h.live, h.following = false, false
	w.elect()
	if w.leader == nil || w.leader == h {
		return ""
	}
	return w.leader.name
}

// liveWorld is the simulator's world of an observed state, with s's host
// in it even when the observation did not list it.
func liveWorld(from, to []Member, hosts []LiveHost, leader string, s Step) *world {
	w := &world{cfg: [2]config{newConfig(from), newConfig(to)}, byName: map[string]*simHost{}}
	for _, lh := range hosts {
		h := &simHost{name: lh.Name, id: lh.ID, live: lh.Live, following: lh.Following}
		if lh.OnB {
			h.cfg = 1
		}
		w.hosts = append(w.hosts, h)
		w.byName[h.name] = h
		if lh.Name == leader {
			w.leader = h
		}
	}
	if w.byName[s.Host] == nil {
		h := &simHost{name: s.Host, id: s.ID, cfg: 1}
		w.hosts = append(w.hosts, h)
		w.byName[s.Host] = h
	}
	return w
}
