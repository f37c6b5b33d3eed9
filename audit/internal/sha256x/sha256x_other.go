//go:build !amd64

package sha256x

// hasSHANI is false: the two-lane assembly is for amd64 only, and Sum and
// Sum2 go to crypto/sha256 before they would call these.
const hasSHANI = false

func hash2(a, b *segments, na, nb int, da, db *[Size]byte) { panic("sha256x: no assembly") }
