package rollout

import (
	"fmt"

	"github.com/zkstage/zkstage/compiler"
)

// liveMargin is the margin of step s on the observed state, by the same
// rules the planner simulates (compiler.LiveMargin).
func (r *runner) liveMargin(st *state, s compiler.Step) (int, string) {
	if st.Leader == "" {
		return -1, "no single live leader: " + leadersText(st.Leaders)
	}
	return compiler.LiveMargin(r.from.Members, r.to.Members, r.liveHosts(st), st.Leader, s)
}

// handover is the host the others elect while step s's host, the live
// leader, is down, or "" (compiler.Handover).
func (r *runner) handover(st *state, s compiler.Step) string {
	if st.Leader == "" {
		return ""
	}
	return compiler.Handover(r.from.Members, r.to.Members, r.liveHosts(st), st.Leader, s)
}

// liveHosts is the observed state in the simulator's terms.
func (r *runner) liveHosts(st *state) []compiler.LiveHost {
	var hosts []compiler.LiveHost
	for _, name := range r.hosts {
		o := st.Hosts[name]
		id, cfg := r.expectedID(name), r.expectedCfg(name)
		if o.ID >= 0 {
			id = o.ID
		}
		switch o.Config {
		case cfgFrom:
			cfg = 0
		case cfgTo:
			cfg = 1
		}
		hosts = append(hosts, compiler.LiveHost{Name: name, ID: id, OnB: cfg == 1, Live: !o.Down, Following: o.Serving})
	}
	return hosts
}

func leadersText(ls []string) string {
	switch len(ls) {
	case 0:
		return "no host says it leads"
	case 1:
		return ls[0] + " leads"
	}
	return fmt.Sprintf("%d hosts say they lead: %v", len(ls), ls)
}
