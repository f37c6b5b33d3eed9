//go:build !amd64

package sha256x

import "crypto/sha256"

// hasSHANI is false: the two-lane assembly is for amd64 only.
const hasSHANI = false

func sum2(a, b []byte) (da, db [Size]byte) {
	return sha256.Sum256(a[:messageLen(a)]), sha256.Sum256(b[:messageLen(b)])
}

func sum1(p []byte) [Size]byte { return sha256.Sum256(p[:messageLen(p)]) }
