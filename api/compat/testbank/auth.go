package testbank

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenLen is the length of a user's static token: 32 characters of
// [0-9A-Za-z], about 190 random bits.
const TokenLen = 32

// idLen is the length of the ids the adapter makes (users, accounts,
// transactions): 10 characters of [0-9a-z], as Testbank's look.
const idLen = 10

// maxNameLen bounds a user's or an account's name, in characters.
const maxNameLen = 100

const (
	tokenAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	idAlphabet    = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// randomString draws n characters of alphabet uniformly (rejection
// sampling, so no character is likelier than another).
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

func newID() string { return randomString(idLen, idAlphabet) }

// HashToken is what the store keeps of a token: its SHA-256, in hex. A
// token is 190 random bits, so a fast hash is enough: there is no
// dictionary to try, and a leaked store gives no usable token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewUserRequest is what an operator gives for a new user.
type NewUserRequest struct {
	Name string `json:"name"`
	// Root allows the user ROOT as sender or recipient (ADR 0020).
	Root bool `json:"root"`
}

// NewUser is a created user with its token, shown once.
type NewUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Root  bool   `json:"root"`
	Token string `json:"token"`
}

// CreateUser makes a user with a new token and stores it. Errors are
// the Store's, or an *Error for a bad name.
func CreateUser(ctx context.Context, s Store, req NewUserRequest, now time.Time) (NewUser, error) {
	if !utf8.ValidString(req.Name) || utf8.RuneCountInString(req.Name) > maxNameLen {
		return NewUser{}, invalid("/name", "name: at most 100 characters of UTF-8.")
	}
	token := randomString(TokenLen, tokenAlphabet)
	u := User{ID: newID(), Name: req.Name, TokenHash: HashToken(token), Root: req.Root, CreatedAt: now.UTC()}
	if err := s.CreateUser(ctx, u); err != nil {
		return NewUser{}, err
	}
	return NewUser{ID: u.ID, Name: u.Name, Root: u.Root, Token: token}, nil
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authenticate finds the user of the request's token: 401 for none or
// an unknown one, 503 when the store does not answer.
func (h *handler) authenticate(r *http.Request) (User, *Error) {
	tok := bearer(r)
	if len(tok) != TokenLen {
		return User{}, errNotAuthenticated
	}
	u, err := h.store.UserByTokenHash(r.Context(), HashToken(tok))
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, errNotAuthenticated
	case err != nil:
		h.log.Warn("testbank token lookup", "err", err)
		return User{}, errUnavailable
	}
	return u, nil
}

// adminCreateUser is POST /admin/users with a native admin token: it
// creates a user and answers its token (201), shown this once.
func (h *handler) adminCreateUser(w http.ResponseWriter, r *http.Request, body []byte) {
	p, err := h.l.Authenticate(r.Context(), bearer(r))
	if err != nil {
		writeError(w, errNotAuthenticated)
		return
	}
	if !p.Admin() {
		writeError(w, forbidden("This route takes a native admin token."))
		return
	}
	var req NewUserRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, invalid("", "The body must be {\"name\": string, \"root\": boolean}."))
			return
		}
	}
	nu, err := CreateUser(r.Context(), h.store, req, h.now())
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			writeError(w, e)
			return
		}
		h.log.Warn("testbank create user", "err", err)
		writeError(w, errUnavailable)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"data": nu})
}
