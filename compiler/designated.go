package compiler

import (
	"fmt"
	"sort"
	"strings"
)

// designatedSuccessors are the voters of the new configuration b that
// ZooKeeper (3.5, 3.8: Leader.getDesignatedLeader) can hand the leadership
// to when a reconfig removes the leader's id and no write is in flight. It
// takes the first element of a java.util.HashSet copied from the ackset,
// the new voters that acknowledged the change by the time it committed:
// at least a quorum of them, in bucket order (a small id hashes to itself;
// the table holds 16 buckets up to 11 acks, 32 up to 23, and so on). So a
// voter can be designated when a quorum-sized ackset can hold it with no
// voter of an earlier bucket. Writes in flight narrow the choice to the
// voters that acknowledged them, which can be any voter: the plan says so.
func designatedSuccessors(b []Member) []Member {
	var voters []Member
	for _, m := range b {
		if m.Voter() {
			voters = append(voters, m)
		}
	}
	n := len(voters)
	if n == 0 {
		return nil
	}
	q := n/2 + 1
	can := map[int]bool{}
	for s := q; s <= n; s++ {
		buckets := javaHashSetTable(s)
		for _, v := range voters {
			before := 0
			for _, w := range voters {
				if w.ID&(buckets-1) < v.ID&(buckets-1) {
					before++
				}
			}
			// The other s-1 acks come from voters of the same or later
			// buckets: there are n-1-before of them.
			if n-1-before >= s-1 {
				can[v.ID] = true
			}
		}
	}
	var out []Member
	for _, v := range voters {
		if can[v.ID] {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// javaHashSetTable is the bucket count of new HashSet<>(c) for a collection
// of size s: HashMap's table for max(s/.75+1, 16), a power of two.
func javaHashSetTable(s int) int {
	want := max(int(float32(s)/0.75)+1, 16)
	t := 1
	for t < want {
		t <<= 1
	}
	return t
}

// removedLeaderWhy tells, for a remove stage leaving configuration b, where
// a removed leader's role goes and whether roll will then move it.
func removedLeaderWhy(b []Member, preferred string) string {
	succ := designatedSuccessors(b)
	var names []string
	outside := 0
	for _, m := range succ {
		names = append(names, fmt.Sprintf("%s (id %d, %s)", m.Host, m.ID, m.Datacenter))
		if m.Datacenter != preferred {
			outside++
		}
	}
	why := fmt.Sprintf("if a removed id leads, ZooKeeper hands the leadership over without an election round (a new epoch) to a voter of the new configuration that acknowledged the change, not to the highest id: with no write in flight one of %s (the first in ZooKeeper's hash order); under writes, one that acknowledged the writes in flight", strings.Join(names, ", "))
	switch {
	case preferred == "":
	case outside == len(succ):
		why += fmt.Sprintf("; all of them are outside %s, so roll then moves the leadership back (move-leader: one restart, one election) when a host there holds the highest id", preferred)
	case outside > 0:
		why += fmt.Sprintf("; when it lands outside %s, roll moves it back (move-leader: one restart, one election) if a host there holds the highest id", preferred)
	}
	return why
}
