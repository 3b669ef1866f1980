package adopt

import (
	"github.com/zkstage/zkstage/zoocfg"
)

// view is what one source says about the ensemble: one server's zoo.cfg
// (with its dynamic file and myid), or one live server's conf.
type view struct {
	// origin names the source in messages: the zoo.cfg path or
	// "conf on HOST:PORT".
	origin string
	// serversFrom is the file holding the server lines (the dynamic config
	// file when the zoo.cfg names one).
	serversFrom string
	servers     []zoocfg.Server
	// entries are the other settings, in file order.
	entries []zoocfg.Entry
	// myid is the id of the server this source belongs to, when known.
	myid     *int
	myidFile string
	myidLine int
	// live views carry only the settings conf shows.
	live bool
}

func (v *view) server(id int) (zoocfg.Server, bool) {
	for _, s := range v.servers {
		if s.ID == id {
			return s, true
		}
	}
	return zoocfg.Server{}, false
}

// get returns the last entry for key.
func (v *view) get(key string) (zoocfg.Entry, bool) {
	for i := len(v.entries) - 1; i >= 0; i-- {
		if v.entries[i].Key == key {
			return v.entries[i], true
		}
	}
	return zoocfg.Entry{}, false
}

// keys returns the distinct setting keys in file order.
func (v *view) keys() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range v.entries {
		if !seen[e.Key] {
			seen[e.Key] = true
			out = append(out, e.Key)
		}
	}
	return out
}
