package compiler

import (
	"fmt"
	"strings"
	"testing"
)

func TestDesignatedSuccessors(t *testing.T) {
	voters := func(ids ...int) []Member {
		var out []Member
		for _, id := range ids {
			out = append(out, Member{Host: fmt.Sprintf("h%d", id), ID: id, Role: "participant"})
		}
		return out
	}
	tests := []struct {
		name string
		b    []Member
		want string
	}{
		// Any 3 of 1..5 hold one of 1, 2, 3 (TestReconfigLeaderMovesBack).
		{name: "five voters, quorum 3", b: voters(1, 2, 3, 4, 5), want: "1,2,3"},
		{name: "four voters, quorum 3", b: voters(1, 2, 3, 4), want: "1,2"},
		{name: "three voters, quorum 2", b: voters(1, 2, 100), want: "1,2"},
		// id 100 sits in bucket 4 of 16 (100 & 15), before 5 and 6.
		{name: "a high id hashes low", b: voters(5, 6, 7, 100, 8), want: "5,6,100"},
		// 17 and 1 share bucket 1: either can come first.
		{name: "a shared bucket", b: voters(1, 17, 2), want: "1,17"},
		{name: "one voter", b: voters(7), want: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range designatedSuccessors(tt.b) {
				got = append(got, fmt.Sprint(m.ID))
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("designated %v, want %s", got, tt.want)
			}
		})
	}
}

func TestJavaHashSetTable(t *testing.T) {
	for s, want := range map[int]int{1: 16, 11: 16, 12: 32, 23: 32, 24: 64} {
		if got := javaHashSetTable(s); got != want {
			t.Errorf("table for %d: %d, want %d", s, got, want)
		}
	}
}
