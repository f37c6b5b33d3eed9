package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion describes the running binary from the build information
// the Go toolchain embeds in it: the main module's version (a tag or
// pseudo-version when built from a module or a tagged checkout, "(devel)"
// otherwise) and, when built from a VCS checkout with -buildvcs (the
// default for go build in a git work tree), the commit, its time and
// whether the work tree had uncommitted changes. `go version -m ledger`
// prints the same information.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "ledger (no build information)"
	}
	return formatVersion(bi)
}

func formatVersion(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var vcs []string
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = append(vcs, "revision "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		vcs = append(vcs, "committed "+t)
	}
	if settings["vcs.modified"] == "true" {
		vcs = append(vcs, "with uncommitted changes")
	}
	out := "ledger " + v
	if len(vcs) > 0 {
		out += " (" + strings.Join(vcs, ", ") + ")"
	}
	return out + ", " + bi.GoVersion
}
