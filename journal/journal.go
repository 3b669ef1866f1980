// Package journal is the rollout journal: what `zkstage roll` did, kept in
// the ensemble itself (one znode per cluster) so that it outlives the
// runner's process and its machine. ZooKeeper 3.4 cannot show which
// configuration a server runs (its conf has no membership section), so on
// 3.4 the journal is where a roll's progress is read back from: by
// `roll --resume`, by `verify` and so by the pull request's gate.
package journal

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// FormatVersion is the format of the journal znode's JSON. A reader refuses
// a newer one rather than misread it.
const FormatVersion = 1

// MaxRecords is how many records the znode keeps (the newest): far below
// ZooKeeper's 1 MiB znode limit, far above one plan's steps.
const MaxRecords = 2000

// Record sources.
const (
	ByRoll = "roll" // the runner recorded a step after its gate passed
	ByAck  = "ack"  // an operator acknowledged a step done by hand
)

// Record is one step that is known done.
type Record struct {
	Fingerprint string    `json:"fingerprint"`
	Stage       int       `json:"stage"`
	StageName   string    `json:"stageName"`
	Action      string    `json:"action"` // restart | start | stop
	Host        string    `json:"host"`
	ID          int       `json:"id"`
	FromID      *int      `json:"fromId,omitempty"`
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	// Note is free text: the acknowledging operator's reason, say.
	Note string `json:"note,omitempty"`
	// ConfigFrom and ConfigTo are, for a reconfig add or remove, the
	// /zookeeper/config version the operation was conditioned on and the
	// one it committed.
	ConfigFrom string `json:"configFrom,omitempty"`
	ConfigTo   string `json:"configTo,omitempty"`
	// Spec is, for a settings roll, the spec hash of the settings the host
	// restarted onto: the stage's own earlier steps, and a roll of older
	// settings, are other records.
	Spec string `json:"spec,omitempty"`
}

func (r Record) String() string {
	by := "recorded by zkstage roll"
	if r.By == ByAck {
		by = "acknowledged by an operator"
	}
	return fmt.Sprintf("stage %d %s %s (id %d) %s at %s", r.Stage, r.Action, r.Host, r.ID, by, r.At.UTC().Format(time.RFC3339))
}

// Log is the journal of one cluster.
type Log struct {
	Format  int      `json:"format"`
	Cluster string   `json:"cluster"`
	Records []Record `json:"records"`
	// Version is the znode's version when read (-1: no znode yet), for the
	// conditional write.
	Version int32 `json:"-"`
}

// Path is the znode of a cluster's journal.
func Path(cluster string) string { return "/zkstage/" + url.PathEscape(cluster) + "/journal" }

// Find returns the newest record of the host's step in the stage of the
// plan with the fingerprint, or nil.
func (l *Log) Find(fingerprint string, stage int, host string) *Record {
	return l.newest(func(r *Record) bool { return r.Fingerprint == fingerprint && r.Stage == stage && r.Host == host })
}

// newest returns the newest record that match accepts, or nil.
func (l *Log) newest(match func(*Record) bool) *Record {
	if l == nil {
		return nil
	}
	for i := len(l.Records) - 1; i >= 0; i-- {
		if r := &l.Records[i]; match(r) {
			return r
		}
	}
	return nil
}

// FindSettings returns the newest record of the host's settings restart
// onto the spec spec in the stage of the plan, or nil.
func (l *Log) FindSettings(fingerprint string, stage int, host, spec string) *Record {
	return l.newest(func(r *Record) bool {
		return r.Fingerprint == fingerprint && r.Stage == stage && r.Host == host && r.Spec == spec
	})
}

// OtherPlans lists the fingerprints of records of the stage that belong to
// another plan: a re-planned spec's old progress, which does not count.
func (l *Log) OtherPlans(fingerprint string, stage int) []string {
	if l == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range l.Records {
		if r.Stage == stage && r.Fingerprint != fingerprint && !seen[r.Fingerprint] {
			seen[r.Fingerprint] = true
			out = append(out, r.Fingerprint)
		}
	}
	return out
}

func decode(cluster string, data []byte, version int32) (*Log, error) {
	l := &Log{Format: FormatVersion, Cluster: cluster, Version: version}
	if len(data) == 0 {
		return l, nil
	}
	if err := json.Unmarshal(data, l); err != nil {
		return nil, fmt.Errorf("journal %s: not a zkstage journal: %v", Path(cluster), err)
	}
	if l.Format > FormatVersion {
		return nil, fmt.Errorf("journal %s: format %d is newer than this zkstage reads (%d): upgrade zkstage", Path(cluster), l.Format, FormatVersion)
	}
	l.Version = version
	return l, nil
}

func (l *Log) encode() ([]byte, error) {
	if len(l.Records) > MaxRecords {
		l.Records = l.Records[len(l.Records)-MaxRecords:]
	}
	l.Format = FormatVersion
	return json.Marshal(l)
}
