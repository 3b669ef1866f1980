package schema

import (
	"os"
	"regexp"
	"testing"
)

// The README's spec example is valid CUE that vet accepts.
func TestREADMESpecExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```cue\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("no cue block in README.md")
	}
	for _, b := range blocks {
		if _, _, err := LoadBytes("README.md", b[1]); err != nil {
			t.Errorf("README spec example: %v\n%s", err, b[1])
		}
	}
}
