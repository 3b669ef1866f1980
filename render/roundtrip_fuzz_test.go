package render

import (
	"strings"
	"testing"

	"cuelang.org/go/cue/literal"

	"github.com/zkstage/zkstage/compiler"
	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// roundTripSpec is a three-server spec whose free-form values come from the
// fuzzer; q quotes them as CUE strings.
func roundTripSpec(version, address, dataDir, dataLogDir, extraKey, extraValue string) []byte {
	q := literal.String.Quote
	return []byte(`name: "fuzz"
version: ` + q(version) + `
datacenters: a: leader: "preferred"
hosts: {
	h1: {address: ` + q(address) + `, dc: "a", myid: 1}
	h2: {address: "10.0.0.2", dc: "a", myid: 2}
	h3: {address: "10.0.0.3", dc: "a", myid: 3}
}
settings: {dataDir: ` + q(dataDir) + `, dataLogDir: ` + q(dataLogDir) + `, extra: {` + q(extraKey) + `: ` + q(extraValue) + `}}
`)
}

// FuzzRenderRoundTrip: whatever vet accepts renders to zoo.cfg files that
// zoocfg parses back, without an error, to the same membership and the same
// settings (ZooKeeper reads what the spec says, no more, no less).
// go test -run XXX -fuzz FuzzRenderRoundTrip ./render; seeds in
// testdata/fuzz/FuzzRenderRoundTrip.
func FuzzRenderRoundTrip(f *testing.F) {
	f.Add("3.8.0", "10.0.0.1", "/var/lib/zookeeper", "/var/log/zk", "autopurge.purgeInterval", "24")
	f.Add("3.4.6", "::1", `C:\zk\data`, `C:\zk\log\`, "ssl.keyStore.location", `C:\zk\keystore.jks`)
	f.Add("3.8.0", "zk1.example.com", "/d", "/l", "x", `a\u0041\`)
	f.Add("3.8.0", "10.0.0.1\nserver.4=6.6.6.6:2888:3888", "/d\nserver.5=1.2.3.4:1:2", "/l", "k", "v\\")
	f.Add("3.5.10", "[2001:db8::1]", "/dätä/ζ", "/l", "k", "é😀 #!=: x")
	f.Fuzz(func(t *testing.T, version, address, dataDir, dataLogDir, extraKey, extraValue string) {
		c, _, err := schema.LoadBytes("fuzz/cluster.cue", roundTripSpec(version, address, dataDir, dataLogDir, extraKey, extraValue))
		if err != nil {
			return
		}
		p, err := compiler.Compile(c)
		if err != nil {
			return
		}
		st := &p.Stages[0]
		for _, m := range st.Members {
			data := ZooCfg(c, st.Members, m)
			cfg, err := zoocfg.Parse("zoo.cfg", data)
			if err != nil {
				t.Fatalf("rendered zoo.cfg does not parse: %v\n%s", err, data)
			}
			// What the spec says, as CUE decoded it (a byte that is not
			// UTF-8 is U+FFFD there already).
			want := map[string]string{"dataDir": c.Settings.DataDir, "dataLogDir": c.Settings.DataLogDir}
			for k, v := range c.Settings.Extra {
				want[k] = v
			}
			for k, v := range want {
				e, ok := cfg.Get(k)
				if !ok || e.Value != v {
					t.Fatalf("%s reads back as %q, want %q\n%s", k, e.Value, v, data)
				}
			}
			if n := strings.Count(string(data), "\n"); n != len(cfg.Entries)+len(cfg.Servers)+2 {
				t.Fatalf("%d lines for %d entries and %d servers: a value spans lines\n%s", n, len(cfg.Entries), len(cfg.Servers), data)
			}
			if len(cfg.Servers) != len(st.Members) {
				t.Fatalf("%d server lines for %d members\n%s", len(cfg.Servers), len(st.Members), data)
			}
			for _, s := range cfg.Servers {
				var mem *compiler.Member
				for i := range st.Members {
					if st.Members[i].ID == s.ID {
						mem = &st.Members[i]
					}
				}
				if mem == nil {
					t.Fatalf("server.%d is no member\n%s", s.ID, data)
				}
				got, _ := schema.Address(s.Address)
				wantAddr, _ := schema.Address(mem.Address)
				if got != wantAddr || s.QuorumPort != mem.QuorumPort || s.ElectionPort != mem.ElectPort {
					t.Fatalf("server.%d reads back as %+v, want %+v\n%s", s.ID, s, *mem, data)
				}
			}
		}
	})
}
