package rollout

import (
	"context"
	"errors"
	"math"
	"os"

	"github.com/go-zookeeper/zk"
	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/zksession"
)

// errNotAuthorized is a leader that refuses the runner's credentials.
var errNotAuthorized = errors.New("not authorized to reconfigure (NoAuth): " + EnvReconfigAuth +
	" must be user:password of the superuser digest the servers know (zoo.cfg's DigestAuthenticationProvider.superDigest, or their -Dzookeeper.DigestAuthenticationProvider.superDigest JVM flag), or the spec must use reconfigAuth \"skipACL\"")

// session opens a session to addr, logged in as the superuser when
// $ZKSTAGE_RECONFIG_AUTH is set (never from a flag).
func (rr *reconfigRun) session(ctx context.Context, addr string) (*zksession.Session, error) {
	s, err := zksession.Dial(ctx, addr, rr.opts.ProbeTimeout)
	if err != nil {
		return nil, err
	}
	if auth := os.Getenv(EnvReconfigAuth); auth != "" {
		if err := s.Do(ctx, rr.opts.ProbeTimeout, "digest login", func() error { return s.Conn.AddAuth("digest", []byte(auth)) }); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// checkAuthorized asks whether the leader would let the runner reconfigure,
// without proposing anything, so that a stage with wrong or missing
// credentials is refused before its first step rather than at its -add,
// with joiners already started. A digest login itself always succeeds: only
// a write tells. Reconfig needs WRITE on /zookeeper/config, and a setData
// there is checked for that permission before its version (measured on
// 3.5.10 and 3.8.0): NoAuth without it, BadVersion with it (or with
// skipACL). The version is one the znode never has (it reads -1, and -1
// itself would mean "any"), and the data is what the znode holds. The
// refusal is an error transaction, as for any failed write: the zxid moves
// by one, the znode does not.
func (rr *reconfigRun) checkAuthorized(ctx context.Context, addr string) error {
	s, err := rr.session(ctx, addr)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Do(ctx, rr.opts.ProbeTimeout, "authorization probe", func() error {
		data, _, err := s.Conn.Get(ConfigZnode)
		if err != nil {
			return err
		}
		_, err = s.Conn.Set(ConfigZnode, data, math.MaxInt32)
		switch {
		case errors.Is(err, zk.ErrBadVersion):
			return nil
		case errors.Is(err, zk.ErrNoAuth):
			return errNotAuthorized
		case err == nil:
			return errors.New("authorization probe: a setData on " + ConfigZnode + " at version MaxInt32 was accepted; refusing to reconfigure a server that behaves so")
		}
		return err
	})
}

// opsLeft reports whether a step of an add or remove operation has not run.
func (rr *reconfigRun) opsLeft() bool {
	for i, s := range rr.steps {
		if !rr.done[i] && (s.Action == compiler.Add || s.Action == compiler.Remove) {
			return true
		}
	}
	return false
}
