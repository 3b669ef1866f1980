package render_test

import (
	"os"
	"strings"
	"testing"

	"github.com/zkstage/zkstage/render"
	"github.com/zkstage/zkstage/schema"
)

// TestSpecHash: stage.json names the spec it was rendered from. The same
// spec gives the same hash; a spec that plans alike but renders other files
// (another initLimit, another port of one host) gives another.
func TestSpecHash(t *testing.T) {
	src, err := os.ReadFile("../clusters/reference/cluster.cue")
	if err != nil {
		t.Fatal(err)
	}
	load := func(s string) string {
		t.Helper()
		c, _, err := schema.LoadBytes("cluster.cue", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return render.SpecHash(c)
	}
	base := load(string(src))
	if again := load(string(src)); again != base || len(base) != 16 {
		t.Fatalf("hash %q then %q, want one 16-digit hash", base, again)
	}
	other := string(src) + "\nsettings: initLimit: 11\n"
	if load(other) == base {
		t.Error("another initLimit gives the same spec hash")
	}
	port := strings.Replace(string(src), `"zk1-dc3": {address: "192.168.3.1", dc: "dc3"`, `"zk1-dc3": {address: "192.168.3.1", dc: "dc3", ports: {client: 2182}`, 1)
	if port == string(src) {
		t.Fatal("the reference spec's zk1-dc3 line changed: update this test")
	}
	if load(port) == base {
		t.Error("another client port of one host gives the same spec hash")
	}
}
