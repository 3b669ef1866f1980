package verify

import (
	"context"
	"net"
	"strconv"
	"time"
)

// Probe is what one server answered to srvr, mntr and conf. A word that did
// not give a usable answer has its error set instead.
type Probe struct {
	Addr     string        `json:"addr"`
	Srvr     *Srvr         `json:"srvr,omitempty"`
	Mntr     Mntr          `json:"-"`
	Conf     *Conf         `json:"conf,omitempty"`
	SrvrErr  error         `json:"-"`
	MntrErr  error         `json:"-"`
	ConfErr  error         `json:"-"`
	Duration time.Duration `json:"duration"`
}

// Serving reports whether srvr gave a mode (the server is in a quorum).
func (p *Probe) Serving() bool { return p.Srvr != nil }

// Mode is srvr's mode, or "" when the server did not answer with one.
func (p *Probe) Mode() string {
	if p.Srvr == nil {
		return ""
	}
	return p.Srvr.Mode
}

// ProbeHost asks one server srvr, mntr and conf, concurrently, each within
// timeout. It never returns an error: failures are kept per word.
func ProbeHost(ctx context.Context, host string, port int, timeout time.Duration) *Probe {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	p := &Probe{Addr: addr}
	start := time.Now()
	done := make(chan struct{}, 3)
	go func() {
		defer func() { done <- struct{}{} }()
		out, err := Word(ctx, addr, "srvr", timeout)
		if err == nil {
			p.Srvr, err = ParseSrvr(out)
			if err != nil {
				err = garbage(addr, "srvr", out)
			}
		}
		p.SrvrErr = err
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		out, err := Word(ctx, addr, "mntr", timeout)
		if err == nil {
			p.Mntr, err = ParseMntr(out)
			if err != nil {
				err = garbage(addr, "mntr", out)
			}
		}
		p.MntrErr = err
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		out, err := Word(ctx, addr, "conf", timeout)
		if err == nil {
			p.Conf, err = ParseConf(out)
			if err != nil {
				err = garbage(addr, "conf", out)
			}
		}
		p.ConfErr = err
	}()
	for i := 0; i < 3; i++ {
		<-done
	}
	p.Duration = time.Since(start)
	return p
}
