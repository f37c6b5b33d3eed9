package mixin

import (
	"crypto/rand"
	"crypto/subtle"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters of PIN hashes (RFC 9106's second recommendation,
// lighter in memory: a six-digit PIN is guessed offline anyway in hours,
// so the hash is there to make that cost real, not to make it impossible;
// the online guard is the lockout). They are stored with each hash, so
// they can be raised later without breaking stored PINs.
const (
	pinHashTime      = 2
	pinHashMemoryKiB = 19 * 1024
	pinHashThreads   = 1
	pinHashKeyLen    = 32
	pinSaltLen       = 16
)

// PinHash is a salted Argon2id hash of a PIN with its parameters.
type PinHash struct {
	Salt      []byte `json:"salt"`
	Hash      []byte `json:"hash"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// hashPin hashes pin with a new random salt.
func hashPin(pin string) PinHash {
	salt := make([]byte, pinSaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24)
	h := PinHash{Salt: salt, Time: pinHashTime, MemoryKiB: pinHashMemoryKiB, Threads: pinHashThreads}
	h.Hash = argon2.IDKey([]byte(pin), salt, h.Time, h.MemoryKiB, h.Threads, pinHashKeyLen)
	return h
}

// matches reports whether pin is the hashed PIN, in constant time.
func (h PinHash) matches(pin string) bool {
	if len(h.Hash) == 0 || h.Time == 0 || h.MemoryKiB == 0 || h.Threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pin), h.Salt, h.Time, h.MemoryKiB, h.Threads, uint32(len(h.Hash)))
	return subtle.ConstantTimeCompare(got, h.Hash) == 1
}
