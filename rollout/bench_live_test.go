package rollout

import (
	"context"
	"testing"
	"time"

	"github.com/zkstage/zkstage/lab"
	"github.com/zkstage/zkstage/lab/labtest"
)

// BenchmarkExpansion runs the bench (rolling, reconfig, naive) on the test topology
// and reports the longest write stall of each method. Not a timed test:
//
//	go test ./rollout -run '^$' -bench Expansion -benchtime 1x
func BenchmarkExpansion(b *testing.B) {
	labtest.Require(b)
	_, c, p := loadPlan(b)
	for i := 0; i < b.N; i++ {
		res, err := Bench(context.Background(), BenchOptions{Cluster: c, Plan: p, State: b.TempDir(),
			Lab: lab.Options{TickTime: 200, DieWithParent: true, StopTimeout: 5 * time.Second}})
		if err != nil {
			b.Fatal(err)
		}
		for m, n := range res.Lost {
			if n > 0 {
				b.Fatalf("%s lost %d acknowledged writes", m, n)
			}
		}
		for _, r := range res.Rows {
			switch {
			case r.Method == "rolling" && r.Name == "total":
				b.ReportMetric(r.Stall.Seconds(), "rolling-stall-s")
				b.ReportMetric(float64(r.Failed), "rolling-failed-writes")
				b.ReportMetric(float64(r.Elections), "rolling-elections")
			case r.Method == "reconfig" && r.Name == "after enabling":
				b.ReportMetric(r.Stall.Seconds(), "reconfig-change-stall-s")
				b.ReportMetric(float64(r.Failed), "reconfig-change-failed-writes")
				b.ReportMetric(float64(r.Elections), "reconfig-change-elections")
			case r.Method == "naive":
				b.ReportMetric(r.Stall.Seconds(), "naive-stall-s")
				b.ReportMetric(float64(r.Failed), "naive-failed-writes")
			}
		}
	}
}
