// Package compiler plans the stages that move a live ZooKeeper ensemble from
// what it is to what the spec asks for, and proves every step safe (never two
// leaders) and available (quorum margin), following docs/zookeeper-facts.md.
// It is pure: no I/O, no clock, no randomness.
package compiler

// Member is one server of a configuration: a host under the id it runs.
type Member struct {
	ID         int    `json:"id"`
	Host       string `json:"host"`
	Address    string `json:"address"`
	Datacenter string `json:"datacenter"`
	Role       string `json:"role"` // participant | observer
	ClientPort int    `json:"clientPort"`
	QuorumPort int    `json:"quorumPort"`
	ElectPort  int    `json:"electionPort"`
}

// Voter reports whether the member takes part in quorums and elections.
func (m Member) Voter() bool { return m.Role != "observer" }

// Action is what a step does to one host.
type Action string

const (
	Restart Action = "restart" // restart the host onto the stage's config
	Start   Action = "start"   // start a new host (its files have just appeared)
	Stop    Action = "stop"    // stop a host that leaves the ensemble
	// Dynamic reconfiguration (policy.method "reconfig"): steps with the
	// same Op are one `reconfig` call, conditioned on the config version.
	Add    Action = "add"    // reconfig -add the host's server line
	Remove Action = "remove" // reconfig -remove the host's id
)

// Stage kinds.
const (
	KindCurrent    = "current"     // stage 0: the ensemble as it is today
	KindRename     = "rename"      // renumber hosts: one rolling restart
	KindGrowRoll   = "grow-roll"   // existing hosts onto the bigger config
	KindGrowStart  = "grow-start"  // new hosts start
	KindShrinkStop = "shrink-stop" // leaving hosts stop
	KindShrinkRoll = "shrink-roll" // remaining hosts onto the smaller config
	KindBootstrap  = "bootstrap"   // no ensemble yet: start every host
	// KindSettings is not a stage of any plan: SettingsRoll's restart of a
	// stage's hosts onto changed settings, same membership.
	KindSettings = "settings"

	// Dynamic reconfiguration stages.
	KindReconfigEnable = "reconfig-enable" // rolling restart onto reconfigEnabled=true and a dynamic file
	KindReconfigRemove = "reconfig-remove" // reconfig -remove; no file changes, the removed hosts keep running
	KindReconfigAdd    = "reconfig-add"    // renamed hosts restart, joiners start, then reconfig -add
	KindReconfigStop   = "reconfig-stop"   // hosts already removed by reconfig stop (their files go)
)

// Leader rules: how the runner orders the live leader's step.
const (
	LeaderNone  = ""                     // no live leader restarts in this stage
	LeaderLast  = "leader-last"          // the live leader's step moves to the end
	LeaderFirst = "renamed-leader-first" // if the live leader's id changes, it goes first; else last
)

// Step is one action on one host, with the availability margin it keeps.
type Step struct {
	Action Action `json:"action"`
	Host   string `json:"host"`
	ID     int    `json:"id"`
	// FromID is the id the host ran before this step when it changes.
	FromID *int `json:"fromId,omitempty"`
	// Margin is the worst slack over every host that may lead when the
	// stage starts: the floor the runner checks live before the step.
	Margin int `json:"margin"`
	// Rule names the liveness rule of this step in the plan's story (the
	// stage starting with its expected leader), and Expected its slack
	// there; Worst explains Margin when another starting leader does worse.
	Rule     string `json:"rule"`
	Expected int    `json:"expectedMargin"`
	Worst    string `json:"worst,omitempty"`
	// LeaderAfter is the leader the story predicts once the step is done
	// ("" while an election cannot finish).
	LeaderAfter string `json:"leaderAfter"`
	// Op numbers the reconfig operation an add or remove step belongs to
	// (1-based within the stage): the steps of one Op are one call.
	Op int `json:"op,omitempty"`
	// Bootstrap lists, under reconfig, the ids of the dynamic config a
	// started or restarted host boots with: the committed config plus
	// itself (ZooKeeper then owns its dynamic file).
	Bootstrap []int `json:"bootstrap,omitempty"`
}

// Alternative is how a stage runs when another host leads at its start:
// the runner applies the same leader rule from the live leader, so the
// order (and the leader it ends with) can differ from the story's.
type Alternative struct {
	Leaders     []string `json:"leaders"` // starting leaders with this run
	Order       []string `json:"order"`   // hosts in execution order
	LeaderAfter string   `json:"leaderAfter"`
	MoveLeader  string   `json:"moveLeader,omitempty"` // host the runner restarts to move the leadership
}

// Rename is a host that moves from one id to another.
type Rename struct {
	Host string `json:"host"`
	From int    `json:"from"`
	To   int    `json:"to"`
}

// Stage is one commit's worth of change: the configuration every live host
// runs when the stage is done, and the ordered steps that get there.
type Stage struct {
	Index   int      `json:"index"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Members []Member `json:"members"`
	Steps   []Step   `json:"steps"`
	// Live names the hosts running once the stage is done (the hosts that
	// have files): in a grow-roll stage the new members are not live yet.
	Live       []string `json:"live"`
	MinMargin  int      `json:"minMargin"`
	LeaderRule string   `json:"leaderRule,omitempty"`
	Added      []Member `json:"added,omitempty"`
	Removed    []Member `json:"removed,omitempty"`
	Renamed    []Rename `json:"renamed,omitempty"`
	// Safe is true when no step can let two leaders exist (always true in a
	// plan: an unsafe candidate is never chosen).
	Safe bool `json:"safe"`
	// Why explains the choice of this stage (and the larger ones refused).
	Why []string `json:"why,omitempty"`
	// Leader is the host the plan expects to lead when the stage starts
	// (the previous stage's LeaderAfter; for stage 0 the highest current
	// voter id, which wins at equal zxids), and LeaderAfter the one it
	// predicts when the stage, and the runner's leader move, are done.
	// Steps are listed in the order the runner takes from Leader.
	Leader      string `json:"leader"`
	LeaderAfter string `json:"leaderAfter"`
	// MoveLeader is the restart the runner adds after the last step to move
	// the leadership back to the most preferred datacenter (rollout's leader
	// placement; roll --keep-leader skips it), when the story needs one.
	MoveLeader *Step `json:"moveLeader,omitempty"`
	// Elections is how many leaderships the story ends (restarts or stops
	// of the leader, and the move).
	Elections int `json:"elections"`
	// Alternatives are the runs from other starting leaders that differ
	// from the story in order or outcome.
	Alternatives []Alternative `json:"alternatives,omitempty"`
}

// Voters returns the ids of the stage's voting members.
func (s *Stage) Voters() []int {
	var ids []int
	for _, m := range s.Members {
		if m.Voter() {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// Quorum is q(C) = floor(voters/2) + 1.
func Quorum(voters int) int { return voters/2 + 1 }

// Plan is the compiler's result.
type Plan struct {
	Cluster     string    `json:"cluster"`
	Version     string    `json:"version"`
	Fingerprint string    `json:"fingerprint"`
	Policy      Policy    `json:"policy"`
	Stages      []Stage   `json:"stages"`
	Placement   Placement `json:"placement"`
	Warnings    []string  `json:"warnings"`
	// Hints are changes to the spec that would give a better plan (not
	// problems with this one).
	Hints []string `json:"hints,omitempty"`
}

// Policy echoes the policy the plan was made with.
type Policy struct {
	Renumber string `json:"renumber"`
	Reserve  int    `json:"reserve"`
	Method   string `json:"method"`
}

// Placement tells, for the final configuration, which host wins an election
// (equal zxid: the highest live id) in each failure scenario.
type Placement struct {
	Scenarios   []Scenario    `json:"scenarios"`
	Datacenters []DCTolerance `json:"datacenters"`
}

// Scenario is one failure case and its election winner.
type Scenario struct {
	Lost       string `json:"lost"` // "nothing", "host zk1 (id 100)", "datacenter dc1"
	LiveVoters int    `json:"liveVoters"`
	Quorum     int    `json:"quorum"`
	HasQuorum  bool   `json:"hasQuorum"`
	Winner     string `json:"winner,omitempty"`
	WinnerID   *int   `json:"winnerId,omitempty"`
	WinnerDC   string `json:"winnerDatacenter,omitempty"`
	// Verdict: "preferred" (in the most preferred datacenter of the
	// configuration), "fallback" (that datacenter is lost and the most
	// preferred one left leads), "allowed" (a more preferred datacenter is
	// live, yet a host elsewhere wins), "violation" (a never-datacenter
	// leads), "no-quorum".
	Verdict string `json:"verdict"`
}

// DCTolerance says whether losing one datacenter keeps a quorum.
type DCTolerance struct {
	Datacenter string `json:"datacenter"`
	Voters     int    `json:"voters"`
	Survives   bool   `json:"survives"`
}
