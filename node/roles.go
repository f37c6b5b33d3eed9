package node

import (
	"fmt"
	"slices"
	"strings"
)

// Role is one part of a ledger that a node runs (ADR 0025).
type Role string

// The roles. A node with no role named runs them all: the all-in-one
// ledger of `ledger serve`.
const (
	// RoleAPI serves the HTTP API: it submits commands, receives their
	// outcomes over core NATS and reads from its own read model, so it
	// also runs a projector.
	RoleAPI Role = "api"
	// RoleProcessor decides commands and appends the journal, and signs
	// checkpoints; it serves only health and metrics over HTTP.
	RoleProcessor Role = "processor"
	// RoleProjector keeps a read model in the data directory, fed from
	// the journal, without serving the API.
	RoleProjector Role = "projector"
)

// AllRoles lists every role, in the order the help names them.
var AllRoles = []Role{RoleAPI, RoleProcessor, RoleProjector}

// Roles is the set of roles a node runs; empty means all of them.
type Roles []Role

// Has reports whether the node runs r.
func (rs Roles) Has(r Role) bool { return len(rs) == 0 || slices.Contains(rs, r) }

// All reports whether the node runs every role.
func (rs Roles) All() bool {
	for _, r := range AllRoles {
		if !rs.Has(r) {
			return false
		}
	}
	return true
}

// runsProjector: a projector node, and an API node, whose reads come from
// its own read model.
func (rs Roles) runsProjector() bool { return rs.Has(RoleProjector) || rs.Has(RoleAPI) }

// String is the comma list of the roles, "api,processor,projector" for
// all.
func (rs Roles) String() string {
	var names []string
	for _, r := range AllRoles {
		if rs.Has(r) {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ",")
}

// Parse adds the roles of a comma list to rs, each once.
func (rs Roles) Parse(list string) (Roles, error) {
	for _, part := range strings.Split(list, ",") {
		r := Role(strings.TrimSpace(part))
		if !slices.Contains(AllRoles, r) {
			return rs, fmt.Errorf("role %q: use %s", part, Roles(nil))
		}
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs, nil
}
