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
	r := w.apply(s)
	return r.margin, r.rule
}
