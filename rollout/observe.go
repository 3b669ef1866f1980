package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/verify"
)

// Which configuration a host runs, as its conf shows.
const (
	cfgUnknown = ""
	cfgFrom    = "from" // the previous stage's membership
	cfgTo      = "to"   // this stage's membership
	cfgOther   = "other"
)

// hostObs is what one host looked like in one observation round.
type hostObs struct {
	Host    string
	Addr    string
	Down    bool // nothing listens on the client port
	Serving bool
	Mode    string
	ID      int    // from conf; -1 when not observed
	Config  string // cfgFrom, cfgTo, cfgOther or cfgUnknown
	Epoch   int64
	Probe   *verify.Probe
	Err     string // why it is not serving
}

// state is one observation round over every host of the stage.
type state struct {
	At     time.Time
	Hosts  map[string]*hostObs
	Leader string // the single host that says it leads; "" if none or several
	// Leaders lists every host that says it leads.
	Leaders []string
}

// observe probes every host concurrently.
func (r *runner) observe(ctx context.Context) *state {
	st := &state{At: time.Now(), Hosts: map[string]*hostObs{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range r.hosts {
		m := r.member(h)
		wg.Add(1)
		go func(h string, m compiler.Member) {
			defer wg.Done()
			p := verify.ProbeHost(ctx, m.Address, m.ClientPort, r.opts.ProbeTimeout)
			o := r.classify(h, p)
			mu.Lock()
			st.Hosts[h] = o
			mu.Unlock()
		}(h, m)
	}
	wg.Wait()
	for _, h := range r.hosts {
		if st.Hosts[h].Mode == "leader" {
			st.Leaders = append(st.Leaders, h)
		}
	}
	sort.Strings(st.Leaders)
	if len(st.Leaders) == 1 {
		st.Leader = st.Leaders[0]
	}
	return st
}

func (r *runner) classify(host string, p *verify.Probe) *hostObs {
	o := &hostObs{Host: host, Addr: p.Addr, ID: -1, Probe: p}
	if p.SrvrErr != nil {
		var we *verify.WordError
		if errors.As(p.SrvrErr, &we) {
			switch we.Kind {
			case verify.ErrRefused:
				o.Down = true
				o.Err = "not running (connection refused on " + p.Addr + ")"
				return o
			case verify.ErrNotServing:
				o.Err = "not currently serving requests (srvr on " + p.Addr + ")"
				return o
			}
		}
		o.Err = p.SrvrErr.Error()
		return o
	}
	o.Serving = true
	o.Mode = p.Srvr.Mode
	o.Epoch = p.Srvr.Epoch()
	if p.Conf != nil {
		o.ID = p.Conf.ServerID
		if p.Conf.HasMembership {
			switch {
			case sameMembership(r.to.Members, p.Conf.Members):
				o.Config = cfgTo
			case sameMembership(r.from.Members, p.Conf.Members):
				o.Config = cfgFrom
			default:
				o.Config = cfgOther
			}
		}
	}
	return o
}

// sameMembership compares a configuration with conf's server lines, by the
// verifier's one comparison (verify.DiffMembership).
func sameMembership(want []compiler.Member, got []verify.ServerLine) bool {
	return len(verify.DiffMembership(want, got)) == 0
}

// describe is a one-line view of a host for messages.
func (o *hostObs) describe() string {
	if !o.Serving {
		return o.Err
	}
	s := o.Mode
	if o.ID >= 0 {
		s += fmt.Sprintf(", id %d", o.ID)
	}
	switch o.Config {
	case cfgTo:
		s += ", runs this stage's config"
	case cfgFrom:
		s += ", runs the previous stage's config"
	case cfgOther:
		s += ", runs a config of neither stage"
	}
	return s
}
