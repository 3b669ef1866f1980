// Package rollout executes one stage of a plan on a live ensemble: the
// stage's steps in the plan's order with the live leader moved last (or
// first when a rename changes its id), each step run by an operator-given
// command and followed by a live gate, stopping at the first failed command
// or gate without touching any later host (docs/zookeeper-facts.md).
//
// It also holds the background writer that measures client-visible write
// stalls during a roll, and the bench that rolls the reference expansion on
// the lab and compares it with the naive stop-all/start-all method.
//
// The package never prints: progress goes to a callback, results are
// returned as values.
package rollout
