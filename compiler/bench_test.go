package compiler

import (
	"fmt"
	"testing"
)

// BenchmarkCompile measures the planner's search: the reference expansion,
// and a 40-voter, 3-datacenter cluster that renames, grows by 12 and
// removes 4 (every move of the search simulates every starting leader).
func BenchmarkCompile(b *testing.B) {
	ref := loadCluster(b, "../clusters/reference")
	dcs := map[string]string{"a": "preferred", "b": "allowed/2", "c": "never"}
	var hosts []hostSpec
	for i := 0; i < 40; i++ {
		dc := []string{"a", "b", "b", "c"}[i%4]
		hosts = append(hosts, hostSpec{fmt.Sprintf("h%02d", i), dc, "", i + 1, i%10 == 3})
	}
	for i := 0; i < 12; i++ {
		hosts = append(hosts, hostSpec{fmt.Sprintf("n%02d", i), []string{"a", "b", "c"}[i%3], "", -1, false})
	}
	big := buildSpec(b, "3.8.0", dcs, hosts, "")
	for _, c := range []struct {
		name string
		spec *Cluster
	}{{"reference", ref}, {"40-voters", big}} {
		b.Run(c.name, func(b *testing.B) {
			var p *Plan
			for i := 0; i < b.N; i++ {
				var err error
				if p, err = Compile(c.spec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p.Stages)-1), "stages")
		})
	}
}
