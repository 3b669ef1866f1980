package rollout

import (
	"errors"

	"github.com/zkstage/zkstage/verify"
)

// probeWithMntr is a probe whose mntr answered m (nil: mntr failed).
func probeWithMntr(m map[string]string) *verify.Probe {
	if m == nil {
		return &verify.Probe{MntrErr: errors.New("mntr unavailable")}
	}
	return &verify.Probe{Mntr: verify.Mntr(m)}
}
