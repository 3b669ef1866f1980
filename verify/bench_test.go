package verify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zkstage/zkstage/lab/labtest"
	"github.com/zkstage/zkstage/verify"
)

// BenchmarkVerify11 verifies an 11-server ensemble (5 + 5 + 1 on
// 127.0.25.x, like the reference target) with every host probed at once and
// with one host at a time. Run: go test -run '^$' -bench Verify11 ./verify
func BenchmarkVerify11(b *testing.B) {
	e := labtest.Ensemble{Name: "bench11"}
	for i := 1; i <= 11; i++ {
		dc := "dc1"
		switch {
		case i == 1:
			dc = "dc3"
		case i <= 6:
			dc = "dc2"
		}
		e.Hosts = append(e.Hosts, labtest.Host{Name: fmt.Sprintf("b%02d-%s", i, dc), Address: fmt.Sprintf("127.0.25.%d", i), ID: i, DC: dc})
	}
	l := labtest.NewLab(b, nil)
	labtest.Up(b, l, e, 120*time.Second)
	m := e.Manifest()
	for _, bc := range []struct {
		name     string
		parallel int
	}{{"parallel", 0}, {"one-at-a-time", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := verify.Run(context.Background(), m, verify.Options{Parallel: bc.parallel, ZxidTolerance: 100})
				if err != nil {
					b.Fatal(err)
				}
				if !r.OK() {
					b.Fatalf("11-host ensemble does not verify:\n%s", text(r))
				}
			}
		})
	}
}

// BenchmarkProbe11 isolates the four-letter-word probes (srvr, mntr, conf on
// each of the 11 servers) from the go-zookeeper session of Run.
func BenchmarkProbe11(b *testing.B) {
	e := labtest.Ensemble{Name: "probe11"}
	for i := 1; i <= 11; i++ {
		e.Hosts = append(e.Hosts, labtest.Host{Name: fmt.Sprintf("p%02d", i), Address: fmt.Sprintf("127.0.26.%d", i), ID: i, DC: "dc1"})
	}
	l := labtest.NewLab(b, nil)
	labtest.Up(b, l, e, 120*time.Second)
	members := e.Manifest().LiveMembers()
	for _, bc := range []struct {
		name     string
		parallel int
	}{{"parallel", 0}, {"one-at-a-time", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, p := range verify.ProbeMembers(context.Background(), members, verify.Options{Parallel: bc.parallel}) {
					if !p.Serving() {
						b.Fatalf("%s: %v", p.Addr, p.SrvrErr)
					}
				}
			}
		})
	}
}
