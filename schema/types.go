package schema

import "cuelang.org/go/cue/token"

// Cluster is a validated cluster spec, decoded from CUE with every default
// applied. Pos fields keep the CUE positions so that later checks (and the
// planner's refusals) can name file, line and column.
type Cluster struct {
	Name        string                 `json:"name"`
	Version     Version                `json:"version"`
	Ports       Ports                  `json:"ports"`
	Settings    Settings               `json:"settings"`
	Datacenters map[string]*Datacenter `json:"datacenters"`
	Hosts       map[string]*Host       `json:"hosts"`
	Policy      Policy                 `json:"policy"`

	// File is the cluster.cue the spec was loaded from.
	File string `json:"-"`
	// PolicyPos points at the policy (or the file when policy is defaulted).
	PolicyPos token.Pos `json:"-"`
	// ReservePos points at policy.reserve (or the policy, or the file).
	ReservePos token.Pos `json:"-"`
	// MethodPos points at policy.method, RenumberPos at policy.renumber;
	// without them, at the policy, else at the hosts (the ids are there).
	MethodPos, RenumberPos token.Pos `json:"-"`
}

// Ports are the three TCP ports of a server.
type Ports struct {
	Client   int `json:"client"`
	Quorum   int `json:"quorum"`
	Election int `json:"election"`
}

// Settings are the zoo.cfg settings shared by every host.
type Settings struct {
	TickTime    int         `json:"tickTime"`
	InitLimit   int         `json:"initLimit"`
	SyncLimit   int         `json:"syncLimit"`
	DataDir     string      `json:"dataDir"`
	DataLogDir  string      `json:"dataLogDir,omitempty"`
	AdminServer AdminServer `json:"adminServer"`
	ClientBind  string      `json:"clientBind"`
	// ConfigDir is where zoo.cfg lives on the hosts (the dynamic config
	// file goes beside it under policy.method "reconfig").
	ConfigDir string            `json:"configDir,omitempty"`
	Extra     map[string]string `json:"extra"`
}

// AdminServer configures ZooKeeper's embedded HTTP admin server (3.5+).
type AdminServer struct {
	Enabled bool `json:"enabled"`
	Port    int  `json:"port"`
}

// Leader classes of a datacenter, in order of preference.
const (
	LeaderPreferred = "preferred"
	LeaderAllowed   = "allowed"
	LeaderNever     = "never"
)

// Datacenter is a failure domain with a leader-placement rule.
type Datacenter struct {
	Name     string    `json:"-"`
	Leader   string    `json:"leader"`
	Priority int       `json:"priority"`
	Pos      token.Pos `json:"-"`
	// LeaderPos points at the datacenter's leader field (the datacenter
	// without one).
	LeaderPos token.Pos `json:"-"`
}

// Rank orders datacenters from the most to the least preferred leader site:
// by leader class, then priority, then name (lower is more preferred).
func (d *Datacenter) Rank() (int, int, string) {
	class := map[string]int{LeaderPreferred: 0, LeaderAllowed: 1, LeaderNever: 2}[d.Leader]
	return class, d.Priority, d.Name
}

// MorePreferred reports whether d is a more preferred leader site than e.
func (d *Datacenter) MorePreferred(e *Datacenter) bool {
	c1, p1, n1 := d.Rank()
	c2, p2, n2 := e.Rank()
	if c1 != c2 {
		return c1 < c2
	}
	if p1 != p2 {
		return p1 < p2
	}
	return n1 < n2
}

// Roles of a member.
const (
	RoleParticipant = "participant"
	RoleObserver    = "observer"
)

// Host is one physical server (its address and its data).
type Host struct {
	Name    string `json:"-"`
	Address string `json:"address"`
	DC      string `json:"dc"`
	// MyID is the id the host runs today; nil for a host that is not a member yet.
	MyID   *int   `json:"myid,omitempty"`
	Role   string `json:"role"`
	Remove bool   `json:"remove"`
	// Ports are the effective ports (cluster ports with the host's overrides).
	Ports Ports `json:"-"`

	Pos token.Pos `json:"-"`
	// RemovePos points at remove: true (the host's position without one).
	RemovePos token.Pos `json:"-"`
	// MyIDPos and RolePos point at the host's myid and role (the host
	// without them).
	MyIDPos, RolePos token.Pos `json:"-"`
}

// Member reports whether the host is part of the ensemble today.
func (h *Host) Member() bool { return h.MyID != nil }

// Policy steers the planner.
type Policy struct {
	Renumber string `json:"renumber"`
	Reserve  int    `json:"reserve"`
	Method   string `json:"method"`
	// AcceptNeverLeader lets a never-datacenter host lead in some failure
	// case; omitted from JSON when false so the spec hash of every spec
	// written before the field existed stays the same.
	AcceptNeverLeader bool `json:"acceptNeverLeader,omitempty"`
	// ReconfigEnabled: the ensemble already runs dynamic configs (method
	// reconfig only: no enabling stage).
	ReconfigEnabled bool `json:"reconfigEnabled,omitempty"`
	// ReconfigAuth is superDigest or skipACL; SuperDigest the digest the
	// servers get for superDigest.
	ReconfigAuth string `json:"reconfigAuth,omitempty"`
	SuperDigest  string `json:"superDigest,omitempty"`
	// SuperDigestFrom is "" or "zoo.cfg" (rendered from SuperDigest) or
	// "jvmflags" (the servers' own JVM flags hold it; nothing rendered).
	SuperDigestFrom string `json:"superDigestFrom,omitempty"`
}

// DigestInJVMFlags reports whether the servers get the superuser digest from
// their JVM flags rather than from the rendered zoo.cfg.
func (p Policy) DigestInJVMFlags() bool {
	return p.ReconfigAuth == AuthSuperDigest && p.SuperDigestFrom == DigestFromJVMFlags
}

// Reconfig methods and authentication.
const (
	MethodRolling   = "rolling"
	MethodReconfig  = "reconfig"
	AuthSuperDigest = "superDigest"
	AuthSkipACL     = "skipACL"
	// DigestFromJVMFlags is policy.superDigestFrom's "jvmflags".
	DigestFromJVMFlags = "jvmflags"
)
