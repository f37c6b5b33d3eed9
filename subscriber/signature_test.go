package subscriber_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/subscriber"
)

// TestSign checks a known vector, computed independently with
//
//	printf '1795334400.' | cat - body.json | openssl dgst -sha256 -hmac whsec_x
//
// where body.json holds {"seq":1}, as docs/events/webhooks.md shows.
func TestSign(t *testing.T) {
	at := time.Unix(1795334400, 0)
	got := subscriber.Sign("whsec_x", at, []byte(`{"seq":1}`))
	want := "t=1795334400,v1=e9cccbbd65ce01f4d1d3068456f47d047924aeccc8c46dabaf57f61f0c7ee9ad"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"seq":1}`)
	now := time.Unix(1795334400, 0)
	good := subscriber.Sign("whsec_x", now, body)
	_, v1, _ := strings.Cut(good, ",")
	tol := subscriber.DefaultSignatureTolerance
	for name, c := range map[string]struct {
		secret, header string
		body           string
		now            time.Time
		ok             bool
	}{
		"good":                {"whsec_x", good, string(body), now, true},
		"within tolerance":    {"whsec_x", good, string(body), now.Add(tol - time.Second), true},
		"rotated, one of two": {"whsec_x", good + ",v1=00ff", string(body), now, true},
		"spaces":              {"whsec_x", strings.ReplaceAll(good, ",", ", "), string(body), now, true},
		"other secret":        {"whsec_y", good, string(body), now, false},
		"other body":          {"whsec_x", good, `{"seq":2}`, now, false},
		"too old":             {"whsec_x", good, string(body), now.Add(tol + time.Second), false},
		"from the future":     {"whsec_x", good, string(body), now.Add(-tol - time.Second), false},
		"other time":          {"whsec_x", "t=1795334401," + v1, string(body), now, false},
		"no time":             {"whsec_x", v1, string(body), now, false},
		"no signature":        {"whsec_x", "t=1795334400", string(body), now, false},
		"empty":               {"whsec_x", "", string(body), now, false},
		"huge":                {"whsec_x", good + strings.Repeat(",v1=00", 500), string(body), now, false},
	} {
		err := subscriber.VerifySignature(c.secret, c.header, []byte(c.body), c.now, tol)
		if c.ok && err != nil || !c.ok && !errors.Is(err, subscriber.ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
