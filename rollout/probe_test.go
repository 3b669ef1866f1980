package rollout

import (
	"errors"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/verify"
)

// probesFrom gives every host of st the probe its observed fields describe,
// as a real server of the runner's version would answer: srvr's mode, conf's
// serverId and (3.5+) membership, and mntr answering m (nil: mntr failed).
func probesFrom(r *runner, st *state, m map[string]string) {
	for _, o := range st.Hosts {
		p := &verify.Probe{Addr: o.Addr}
		if !o.Serving {
			p.SrvrErr = errors.New(o.Err)
			o.Probe = p
			continue
		}
		p.Srvr = &verify.Srvr{Version: r.to.Version, Mode: o.Mode}
		p.Conf = &verify.Conf{ServerID: o.ID, HasMembership: r.shows.Membership}
		var members []compiler.Member
		switch o.Config {
		case cfgFrom:
			members = r.from.Members
		case cfgTo:
			members = r.to.Members
		}
		if r.shows.Membership {
			for _, mem := range members {
				role := mem.Role
				if role == "" {
					role = "participant"
				}
				p.Conf.Members = append(p.Conf.Members, verify.ServerLine{ID: mem.ID, Address: mem.Address,
					QuorumPort: mem.QuorumPort, ElectionPort: mem.ElectPort, Role: role})
			}
		}
		if m == nil {
			p.MntrErr = errors.New("mntr unavailable")
		} else {
			p.Mntr = verify.Mntr(m)
		}
		o.Probe = p
	}
}
