package domain

import (
	"strings"
	"unicode/utf8"
)

// World is the reserved issuer account. One exists for every asset and has
// no lower limit: a transfer from it mints, a transfer to it burns. Because
// an account holds one asset, "world" is resolved per transfer from the
// asset of the other side (or the transfer's asset).
const World = "world"

// Unlimited is the overdraft limit value that removes the lower bound.
const Unlimited = "unlimited"

// Limits on account fields. Each bounds memory per account in the
// processor and row size in the read models.
const (
	MaxIDLen            = 64  // account ids and transfer ids
	maxOwnerLen         = 128 // an identity such as a token subject
	maxMetadataKeys     = 32
	maxMetadataKeyLen   = 64
	maxMetadataValueLen = 512
	MaxReferenceLen     = 512
)

// Account is an opening request and, once opened, the account's definition.
// OverdraftLimit is a decimal literal at the asset's scale, "unlimited",
// or empty for the default of zero (the balance may not go below zero).
type Account struct {
	ID             string            `json:"id"`
	Asset          string            `json:"asset"`
	OverdraftLimit string            `json:"overdraft_limit,omitempty"`
	Owner          string            `json:"owner,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// ValidateID checks an id a request gives: an account, transfer or webhook
// id. It is 1-64 characters from A-Z a-z 0-9 '_' '-' '.' ':', not made only
// of dots. The set is safe in URLs, subjects and file names (nothing to
// percent-encode), and rules out look-alike Unicode. Ids of dots alone are
// refused because a URL path rewrites them: "." and ".." are the path
// segments that clients and proxies remove (RFC 3986, section 5.2.4), so
// such an id could be written but never read back. Longer runs of dots
// are refused with them: they are no dot segments, but no id needs them,
// and one rule ("not only dots") is easier to state and to keep.
func ValidateID(field, id string) error {
	if err := validateIDChars(field, id); err != nil {
		return err
	}
	if strings.Trim(id, ".") == "" {
		return &FieldError{Field: field, Reason: "must not be made only of dots: \".\" and \"..\" are URL path segments that clients rewrite, so the id could not be read back"}
	}
	return nil
}

// validateIDChars is the id rule the journal has always kept: length and
// character set. Ids made only of dots were accepted before ValidateID
// refused them, so events and snapshots that hold one stay valid.
func validateIDChars(field, id string) error {
	if id == "" || len(id) > MaxIDLen {
		return &FieldError{Field: field, Reason: "must be 1 to 64 characters"}
	}
	for i := 0; i < len(id); i++ {
		if !idChars[id[i]] {
			return &FieldError{Field: field, Reason: "may contain only A-Z a-z 0-9 _ - . :"}
		}
	}
	return nil
}

// idChars marks the bytes an id may hold: one load a byte where the
// ranges took up to seven comparisons (every event's ids are checked so,
// when the journal is replayed or audited).
var idChars = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
	}
	return t
}()

// Validate checks the request's shape. The limit's scale is checked against
// the asset when the account is opened.
func (a Account) Validate() error {
	if a.ID == FX {
		return &FieldError{Field: "id", Reason: "\"fx\" is reserved for the FX account"}
	}
	return a.validate(ValidateID)
}

// ValidateJournaled checks an account as a journal event records it: as
// Validate, but with the id rule the journal has always kept (an id made
// only of dots, accepted once, stays readable).
func (a Account) ValidateJournaled() error { return a.validate(validateIDChars) }

func (a Account) validate(validateID func(field, id string) error) error {
	if err := validateID("id", a.ID); err != nil {
		return err
	}
	if a.ID == World {
		return &FieldError{Field: "id", Reason: "\"world\" is reserved for the issuer account"}
	}
	if err := validateAssetCode("asset", a.Asset); err != nil {
		return err
	}
	if a.OverdraftLimit != "" && a.OverdraftLimit != Unlimited {
		if err := CheckAmountLiteral(a.OverdraftLimit); err != nil {
			return &FieldError{Field: "overdraft_limit", Reason: "must be a non-negative decimal string or \"unlimited\""}
		}
	}
	if err := validateText("owner", a.Owner, maxOwnerLen); err != nil {
		return err
	}
	return ValidateMetadata(a.Metadata)
}

// ValidateMetadata bounds a metadata map: at most 32 keys of 1-64
// characters, values of at most 512, no control characters.
func ValidateMetadata(m map[string]string) error {
	if len(m) > maxMetadataKeys {
		return &FieldError{Field: "metadata", Reason: "at most 32 keys"}
	}
	for k, v := range m {
		if k == "" {
			return &FieldError{Field: "metadata", Reason: "keys must not be empty"}
		}
		if err := validateText("metadata key", k, maxMetadataKeyLen); err != nil {
			return err
		}
		if err := validateText("metadata."+k, v, maxMetadataValueLen); err != nil {
			return err
		}
	}
	return nil
}

// validateText accepts valid UTF-8 of at most max characters without
// control characters.
func validateText(field, s string, max int) error {
	if len(s) <= max && printableASCII(s) {
		return nil // nearly every text: fewer bytes than max, one a character
	}
	if !utf8.ValidString(s) {
		return &FieldError{Field: field, Reason: "must be valid UTF-8"}
	}
	if utf8.RuneCountInString(s) > max {
		return &FieldError{Field: field, Reason: "too long"}
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return &FieldError{Field: field, Reason: "must not contain control characters"}
		}
	}
	return nil
}

// printableASCII reports whether every byte of s is from ' ' to '~',
// eight bytes at a time: which validateText accepts without decoding.
func printableASCII(s string) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load64(s[i : i+8])
		// A byte below ' ' borrows, one from 0x7f up carries or is
		// above 0x7f: the tests "some byte below n" and "some byte from
		// n up" (x+1 carries only out of a byte that is itself 0xff).
		if ((x-lsb*' ')&^x|x|(x+lsb))&msb != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// load64 reads the first eight bytes of s as a little-endian uint64 (the
// compiler makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
