package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
)

// bigSpec is a 255-host cluster: 127 members today in dc1 (ids 1..127)
// growing by 128 hosts across dc2 (allowed) and dc3 (never).
func bigSpec(b *testing.B, name string, current, fresh int) *schema.Cluster {
	var s strings.Builder
	fmt.Fprintf(&s, "name: %q\nversion: \"3.8.0\"\n", name)
	s.WriteString("datacenters: {dc1: {leader: \"preferred\"}, dc2: {leader: \"allowed\", priority: 2}, dc3: {leader: \"never\"}}\nhosts: {\n")
	for i := 0; i < current; i++ {
		fmt.Fprintf(&s, "  \"a%d\": {address: \"10.1.%d.%d\", dc: \"dc1\", myid: %d}\n", i, i/250, i%250+1, i+1)
	}
	for i := 0; i < fresh; i++ {
		dc := "dc2"
		if i%8 == 7 {
			dc = "dc3"
		}
		fmt.Fprintf(&s, "  \"b%d\": {address: \"10.2.%d.%d\", dc: %q}\n", i, i/250, i%250+1, dc)
	}
	s.WriteString("}\n")
	c, _, err := schema.LoadBytes(name+".cue", []byte(s.String()))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func planAndRender(b *testing.B, c *schema.Cluster) int {
	p, err := compiler.Compile(c)
	if err != nil {
		b.Fatal(err)
	}
	t, err := Render(c, p, -1)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, fs := range t {
		n += len(fs)
	}
	return n
}

// BenchmarkPlanRender255 plans and renders every stage of a 255-host
// ensemble (127 members growing to 255). Spec loading is excluded.
func BenchmarkPlanRender255(b *testing.B) {
	c := bigSpec(b, "big", 127, 128)
	b.ResetTimer()
	var files int
	for i := 0; i < b.N; i++ {
		files = planAndRender(b, c)
	}
	b.ReportMetric(float64(files), "files/op")
}

// BenchmarkLoad255 is the CUE load and validation of the same spec.
func BenchmarkLoad255(b *testing.B) {
	for i := 0; i < b.N; i++ {
		bigSpec(b, "big", 127, 128)
	}
}

// BenchmarkFleet200 loads, plans and renders 200 clusters shaped like the
// reference scenario (5 members growing to 5+5+1), as a fleet repository
// would on every CI run.
func BenchmarkFleet200(b *testing.B) {
	for i := 0; i < b.N; i++ {
		files := 0
		for k := 0; k < 200; k++ {
			c := bigSpec(b, fmt.Sprintf("c%d", k), 5, 6)
			files += planAndRender(b, c)
		}
		b.ReportMetric(float64(files), "files/op")
	}
}
