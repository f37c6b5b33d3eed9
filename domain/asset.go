package domain

// Asset is a unit of value with a fixed number of decimal places.
type Asset struct {
	Code  string `json:"code"`
	Scale int    `json:"scale"`
}

// maxAssetCodeLen bounds asset codes: long enough for "POINTS" or a token
// ticker, short enough to keep every entry row small.
const maxAssetCodeLen = 16

// Validate checks the code's character set (upper-case letters, digits and
// '_', starting with a letter, 1-16 characters) and the scale (0-18).
func (a Asset) Validate() error {
	if err := validateAssetCode("code", a.Code); err != nil {
		return err
	}
	if a.Scale < 0 || a.Scale > MaxScale {
		return &FieldError{Field: "scale", Reason: "must be an integer from 0 to 18"}
	}
	return nil
}

func validateAssetCode(field, code string) error {
	if code == "" || len(code) > maxAssetCodeLen {
		return &FieldError{Field: field, Reason: "must be 1 to 16 characters"}
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return &FieldError{Field: field, Reason: "must be upper-case letters, digits or '_', starting with a letter"}
		}
	}
	return nil
}
