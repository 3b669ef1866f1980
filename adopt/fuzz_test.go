package adopt

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkstage/zkstage/schema"
	"github.com/zkstage/zkstage/zoocfg"
)

// FuzzImport: no zoo.cfg, dynamic file or myid makes an import panic; a
// refusal is a list of errors that each say something, and an accepted
// import is a spec that vet accepts.
// go test -run XXX -fuzz FuzzImport ./adopt; seeds in testdata/fuzz/FuzzImport.
func FuzzImport(f *testing.F) {
	f.Add([]byte("clientPort=2181\n"+threeServers), []byte(""), []byte("1\n"), false)
	f.Add([]byte("dynamicConfigFile=/etc/zk/zoo.cfg.dynamic\n"), []byte(threeServers+"version=100000000\n"), []byte("2\n"), true)
	f.Add([]byte("ssl.keyStore.location=C:\\\\zk\\\\keystore.jks\ntickTime=2000\ntickTime=2000\n"+threeServers), []byte(""), []byte("3"), false)
	f.Add([]byte("\x7fELF\x00"), []byte(""), []byte("99999999999999999999"), false)
	f.Fuzz(func(t *testing.T, cfg, dynamic, myid []byte, is35 bool) {
		dir := t.TempDir()
		write := func(name string, data []byte) {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("zoo.cfg", cfg)
		write("zoo.cfg.dynamic", dynamic)
		write("myid", myid)
		version := "3.4.14"
		if is35 {
			version = "3.8.0"
		}
		res, err := ImportFiles([]string{filepath.Join(dir, "zoo.cfg")}, Options{Version: version})
		if err != nil {
			var list zoocfg.Errors
			if errors.As(err, &list) {
				for _, e := range list {
					if e.Msg == "" {
						t.Fatalf("empty message in %v", err)
					}
				}
			} else if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if _, _, err := schema.LoadBytes("imported/cluster.cue", res.CUE); err != nil {
			t.Fatalf("imported spec fails vet: %v\n%s", err, res.CUE)
		}
	})
}
