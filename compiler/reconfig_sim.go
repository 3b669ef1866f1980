package compiler

import "fmt"

// reconfigSim is the availability model of dynamic reconfiguration: one
// committed configuration, followed by every live host (reconfiguration
// needs no election, so the leader stays), and hosts that are live but not
// in it follow without a vote. An operation from C to C' commits only when
// a quorum of C and a quorum of C' are live, connected and synced, so its
// margin is the smaller slack of the two; ZooKeeper refuses it otherwise
// (NewConfigNoQuorum, seen on 3.5.10 and 3.8.0) and C stays in force.
type reconfigSim struct {
	cfg  []Member
	live map[string]int // host -> id it runs
}

func newReconfigSim(cfg []Member, live map[string]int) *reconfigSim {
	s := &reconfigSim{cfg: append([]Member{}, cfg...), live: map[string]int{}}
	for h, id := range live {
		s.live[h] = id
	}
	return s
}

// liveVoters counts the voters of c whose host runs that id now.
func (s *reconfigSim) liveVoters(c []Member) int {
	n := 0
	for _, m := range c {
		if id, ok := s.live[m.Host]; ok && id == m.ID && m.Voter() {
			n++
		}
	}
	return n
}

// slack is the committed configuration's live voters above its quorum.
func (s *reconfigSim) slack() (int, string) {
	v, n := countVoters(s.cfg), s.liveVoters(s.cfg)
	return n - Quorum(v), fmt.Sprintf("committed %d-voter config keeps %d live voters, quorum %d", v, n, Quorum(v))
}

// start (re)starts a host that is not a member of the committed
// configuration under m.ID: it syncs as a non-voting follower, so the
// committed configuration's slack does not change. Its id must be free:
// neither a member nor run by another live host.
func (s *reconfigSim) start(m Member) (int, string, string) {
	bad := ""
	for _, c := range s.cfg {
		if c.ID == m.ID {
			bad = fmt.Sprintf("%s cannot start as id %d: the id is still a member of the committed configuration (%s)", m.Host, m.ID, c.Host)
		}
		if c.Host == m.Host {
			bad = fmt.Sprintf("%s cannot restart: it is still a member of the committed configuration as id %d", m.Host, c.ID)
		}
	}
	for h, id := range s.live {
		if h != m.Host && id == m.ID {
			bad = fmt.Sprintf("%s cannot start as id %d: %s still runs that id", m.Host, m.ID, h)
		}
	}
	s.live[m.Host] = m.ID
	margin, rule := s.slack()
	return margin, "joins as a non-voting follower; " + rule, bad
}

// op reconfigures to next: the margin is the smaller slack of the old and
// the new configuration; every member of next must be live.
func (s *reconfigSim) op(next []Member) (int, string, string) {
	bad := ""
	for _, m := range next {
		if id, ok := s.live[m.Host]; !ok || id != m.ID {
			bad = fmt.Sprintf("%s (id %d) would join the configuration without running: ZooKeeper accepts that while a quorum of the new configuration is live, and the ensemble loses its margin", m.Host, m.ID)
			break
		}
	}
	ov, on := countVoters(s.cfg), s.liveVoters(s.cfg)
	nv, nn := countVoters(next), s.liveVoters(next)
	mo, mn := on-Quorum(ov), nn-Quorum(nv)
	rule := fmt.Sprintf("reconfig commits with quorums of both: old %d-voter config %d live (quorum %d), new %d-voter config %d live (quorum %d)", ov, on, Quorum(ov), nv, nn, Quorum(nv))
	s.cfg = append([]Member{}, next...)
	return min(mo, mn), rule, bad
}
