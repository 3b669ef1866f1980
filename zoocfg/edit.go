package zoocfg

import (
	"sort"
	"strings"
)

// Edit is one key whose value differs between two renders of a zoo.cfg:
// Old "" with Added, New "" with Removed.
type Edit struct {
	Key     string `json:"key"`
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	Added   bool   `json:"added,omitempty"`
	Removed bool   `json:"removed,omitempty"`
}

func (e Edit) String() string {
	switch {
	case e.Removed:
		return "remove " + e.Key
	case e.Added:
		return e.Key + "=" + e.New + " (new)"
	}
	return e.Key + "=" + e.New + " (was " + e.Old + ")"
}

// Edits lists, in key order, the keys (server lines aside) whose last value
// differs between two static configs. Under dynamic reconfiguration
// ZooKeeper rewrites a member's zoo.cfg, so new settings reach it as these
// edits made in place, never as the new file.
func Edits(old, new []byte) ([]Edit, error) {
	o, err := Parse("old", old)
	if err != nil {
		return nil, err
	}
	n, err := Parse("new", new)
	if err != nil {
		return nil, err
	}
	last := func(c *Config) map[string]string {
		m := map[string]string{}
		for _, e := range c.Entries {
			m[e.Key] = e.Value
		}
		return m
	}
	om, nm := last(o), last(n)
	var out []Edit
	for k, v := range nm {
		if ov, ok := om[k]; !ok {
			out = append(out, Edit{Key: k, New: v, Added: true})
		} else if ov != v {
			out = append(out, Edit{Key: k, Old: ov, New: v})
		}
	}
	for k, v := range om {
		if _, ok := nm[k]; !ok {
			out = append(out, Edit{Key: k, Old: v, Removed: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Apply makes the edits in place in data, the file as ZooKeeper keeps it:
// every line of an edited key gets the new value (or goes, for a removed
// key), a new key is appended, and every other line stays as it is.
// ZooKeeper writes plain key=value lines; a line continued with a
// backslash is kept whole under its key.
func Apply(data []byte, edits []Edit) []byte {
	byKey := map[string]Edit{}
	for _, e := range edits {
		byKey[e.Key] = e
	}
	seen := map[string]bool{}
	var out []string
	lines := strings.SplitAfter(string(data), "\n")
	cont, drop := false, false // inside a continued line; of an edited key
	for _, l := range lines {
		if l == "" {
			continue
		}
		if cont {
			cont = endsWithOddBackslashes(strings.TrimRight(l, "\r\n"))
			if !drop {
				out = append(out, l)
			}
			continue
		}
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "!") {
			out = append(out, l)
			continue
		}
		raw := strings.TrimRight(l, "\r\n")
		k, _ := splitKeyValue(strings.TrimLeft(raw, " \t\f"))
		k = strings.TrimSpace(k)
		cont = endsWithOddBackslashes(raw)
		e, ok := byKey[k]
		drop = ok
		if !ok {
			out = append(out, l)
			continue
		}
		seen[k] = true
		if e.Removed {
			continue
		}
		out = append(out, k+"="+EscapeValue(e.New)+"\n")
	}
	text := strings.Join(out, "")
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	for _, e := range edits {
		if !e.Removed && !seen[e.Key] {
			text += e.Key + "=" + EscapeValue(e.New) + "\n"
		}
	}
	return []byte(text)
}
