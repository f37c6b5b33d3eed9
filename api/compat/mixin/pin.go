package mixin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// PIN limits.
const (
	// maxPinFailures wrong PINs within pinLockWindow lock the user until
	// the oldest of them is older than the window: five guesses a day
	// make guessing a six-digit PIN online hopeless.
	maxPinFailures = 5
	pinLockWindow  = 24 * time.Hour
	// maxEncryptedPinLen bounds the base64 text decoded (the SDK's is 64
	// characters: IV and two AES blocks).
	maxEncryptedPinLen = 256
	// pinStateRetries bounds the re-reads when concurrent requests of
	// one user update its PIN state at once.
	pinStateRetries = 8
	// pinPlainLen is six ASCII digits, the time and the iterator.
	pinPlainLen = 6 + 8 + 8
)

// decryptPin decrypts a PIN as the SDK encrypts it: base64 (URL or
// standard, padded or not) of IV ‖ AES-256-CBC with PKCS#7 padding, keyed
// by X25519(the server's PIN key, the session's curve key); the
// plaintext is the six ASCII digits, the time (uint64 LE, unix seconds)
// and the iterator (uint64 LE). A PIN it cannot read is 20118.
func decryptPin(u User, encrypted string) (pin string, iterator uint64, e *Error) {
	bad := newError(CodePinFormat, "PIN format error: not a PIN encrypted with this session's pin_token.")
	if encrypted == "" || len(encrypted) > maxEncryptedPinLen {
		return "", 0, bad
	}
	data, err := decodeBase64(encrypted)
	if err != nil || len(data) < 2*aes.BlockSize || len(data)%aes.BlockSize != 0 {
		return "", 0, bad
	}
	priv, err := ecdh.X25519().NewPrivateKey(u.PinPrivateKey)
	if err != nil {
		return "", 0, bad
	}
	pub, err := ecdh.X25519().NewPublicKey(u.SessionCurveKey)
	if err != nil {
		return "", 0, bad
	}
	key, err := priv.ECDH(pub)
	if err != nil {
		return "", 0, bad
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", 0, bad
	}
	plain := make([]byte, len(data)-aes.BlockSize)
	cipher.NewCBCDecrypter(block, data[:aes.BlockSize]).CryptBlocks(plain, data[aes.BlockSize:])
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(plain) {
		return "", 0, bad
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return "", 0, bad
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) != pinPlainLen || !pinRE.Match(plain[:6]) {
		return "", 0, bad
	}
	return string(plain[:6]), binary.LittleEndian.Uint64(plain[14:22]), nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// checkPin accepts an encrypted PIN once: the digits must match the hash
// and the iterator must be greater than the last one accepted, recorded
// with a revision check so that two requests cannot both use it. Wrong
// digits count towards the lockout; a user locked out is refused (429)
// before the PIN is even hashed.
func (h *handler) checkPin(ctx context.Context, u User, encrypted string) *Error {
	pin, iterator, e := decryptPin(u, encrypted)
	if e != nil {
		return e
	}
	st, rev, err := h.store.PinState(ctx, u.ID)
	if err != nil {
		h.log.Warn("mixin pin state", "err", err)
		return errUnavailable
	}
	if locked(st, h.now()) {
		return errLocked
	}
	// Argon2id takes memory: at most pinHashSlots hashes at once.
	select {
	case h.pinSlots <- struct{}{}:
	case <-ctx.Done():
		return errUnavailable
	}
	right := u.PinHash.matches(pin)
	<-h.pinSlots
	for range pinStateRetries {
		now := h.now()
		if locked(st, now) {
			return errLocked
		}
		next := PinState{LastIterator: st.LastIterator}
		var answer *Error
		switch {
		case !right:
			next.Failures = append(recentFailures(st, now), now.UTC())
			answer = errPinIncorrect
		case iterator <= st.LastIterator:
			// A replay: the PIN is right, so it is no guess and does
			// not count towards the lockout.
			return newError(CodePinIncorrect, "PIN incorrect: this encrypted PIN was used already (its iterator must grow).")
		default:
			next.LastIterator = iterator
		}
		err := h.store.UpdatePinState(ctx, u.ID, next, rev)
		if err == nil {
			return answer
		}
		if !errors.Is(err, ErrStale) {
			h.log.Warn("mixin pin state update", "err", err)
			return errUnavailable
		}
		if st, rev, err = h.store.PinState(ctx, u.ID); err != nil {
			h.log.Warn("mixin pin state", "err", err)
			return errUnavailable
		}
	}
	return errUnavailable
}

var (
	errPinIncorrect = newError(CodePinIncorrect, "PIN incorrect.")
	errLocked       = newError(CodeTooManyRequests,
		"Too many wrong PINs: the user is locked until the oldest of the last 5 wrong PINs is 24 hours old.")
)

// recentFailures are st's failures still within the lockout window.
func recentFailures(st PinState, now time.Time) []time.Time {
	var out []time.Time
	for _, t := range st.Failures {
		if now.Sub(t) < pinLockWindow {
			out = append(out, t)
		}
	}
	if len(out) >= maxPinFailures { // keep the latest maxPinFailures-1, to add one
		out = out[len(out)-maxPinFailures+1:]
	}
	return out
}

func locked(st PinState, now time.Time) bool {
	n := 0
	for _, t := range st.Failures {
		if now.Sub(t) < pinLockWindow {
			n++
		}
	}
	return n >= maxPinFailures
}
