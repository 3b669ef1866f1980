package render

import (
	"strings"
	"testing"
)

// TestParseManifestFormat: stage.json of this format and of the unversioned
// layout before it are read; a newer one is refused, not misread.
func TestParseManifestFormat(t *testing.T) {
	tests := []struct {
		json    string
		wantErr string
	}{
		{`{"cluster": "c", "stage": 2}`, ""},
		{`{"format": 1, "cluster": "c", "stage": 2}`, ""},
		{`{"format": 2, "cluster": "c", "stage": 2}`, "format 2 is newer than this zkstage reads (1)"},
		{`{"format": "1"}`, "cannot unmarshal string"},
	}
	for _, tt := range tests {
		m, err := ParseManifest([]byte(tt.json))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.json, err)
		case tt.wantErr == "" && (m.Cluster != "c" || m.Stage != 2):
			t.Errorf("%s: read %+v", tt.json, m)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want %q", tt.json, err, tt.wantErr)
		}
	}
}
