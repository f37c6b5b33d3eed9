package audit

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit/internal/sha256x"
	"github.com/nats-ledger/ledger/domain"
)

// pairJournal decides and encodes a small journal: an asset, two accounts
// and transfers between them.
func pairJournal(t *testing.T, n int) [][]byte {
	t.Helper()
	j := decidedJournal{st: domain.NewState(), at: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), step: time.Second}
	add := func(c domain.Command) {
		if err := j.add(c); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	add(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	add(domain.Command{Account: &domain.Account{ID: "a", Asset: "USD"}})
	add(domain.Command{Account: &domain.Account{ID: "b", Asset: "USD"}})
	add(domain.Command{Transfer: &domain.Transfer{ID: "mint", From: domain.World, To: "a", Amount: "1000"}})
	for i := 0; int(j.seq) < n; i++ {
		add(domain.Command{Transfer: &domain.Transfer{ID: fmt.Sprint("t", i), From: "a", To: "b",
			Amount: fmt.Sprintf("%d.%02d", 1+i%5, i%100), Reference: fmt.Sprint("invoice ", i)}})
	}
	return splitLines(j.data)
}

// auditWith audits the lines with lines hashed in pairs or one at a time,
// and with the two-lane assembly or crypto/sha256 under the pairs. It
// sets package variables: no test of this package runs in parallel.
func auditWith(t *testing.T, lines [][]byte, paired, fallback bool) Report {
	t.Helper()
	savedPaired, savedFallback := pairHashing, sha256x.Fallback
	pairHashing, sha256x.Fallback = paired, fallback
	defer func() { pairHashing, sha256x.Fallback = savedPaired, savedFallback }()
	var data []byte
	for _, l := range lines {
		data = append(append(data, l...), '\n')
	}
	res, err := Run(context.Background(), &FileSource{Path: "-", Stdin: bytes.NewReader(data)}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	res.Report.ElapsedSecs, res.Report.EventsPerSec = 0, 0
	return *res.Report
}

// TestPairedHashingAgrees: hashing lines two at a time finds what hashing
// them one at a time finds, for every kind of damage to a hash or a
// chain at every position, so in the first and the second lane of a pair
// and in the odd line at the end, in a journal of an odd and of an even
// number of lines; and so does the pair path on crypto/sha256.
func TestPairedHashingAgrees(t *testing.T) {
	flip := func(c byte) byte {
		if c == '0' {
			return '1'
		}
		return '0'
	}
	damage := map[string]func(ls [][]byte, i int) [][]byte{
		"intact": func(ls [][]byte, i int) [][]byte { return ls },
		"altered": func(ls [][]byte, i int) [][]byte {
			ls[i] = bytes.Replace(ls[i], []byte(`"USD"`), []byte(`"EUR"`), 1)
			return ls
		},
		"hash changed": func(ls [][]byte, i int) [][]byte {
			ls[i][len(ls[i])-3] = flip(ls[i][len(ls[i])-3])
			return ls
		},
		"prev hash changed": func(ls [][]byte, i int) [][]byte {
			j := bytes.Index(ls[i], []byte(`"prev_hash":"`)) + len(`"prev_hash":"`)
			ls[i][j] = flip(ls[i][j])
			return ls
		},
		"upper-case hash": func(ls [][]byte, i int) [][]byte {
			n := len(ls[i])
			copy(ls[i][n-66:], bytes.ToUpper(ls[i][n-66:n-2]))
			return ls
		},
		"not a hex digit in the hash": func(ls [][]byte, i int) [][]byte {
			ls[i][len(ls[i])-40] = 'g'
			return ls
		},
		"hash cut short": func(ls [][]byte, i int) [][]byte {
			n := len(ls[i])
			ls[i] = append(ls[i][:n-4:n-4], `"}`...)
			return ls
		},
		"not canonical": func(ls [][]byte, i int) [][]byte {
			ls[i] = bytes.Replace(ls[i], []byte(`,"type"`), []byte(`, "type"`), 1)
			return ls
		},
		"no hash suffix": func(ls [][]byte, i int) [][]byte {
			ls[i] = ls[i][:len(ls[i])-10]
			return ls
		},
		"not json": func(ls [][]byte, i int) [][]byte {
			ls[i] = []byte("not an event")
			return ls
		},
		"deleted": func(ls [][]byte, i int) [][]byte { return append(ls[:i:i], ls[i+1:]...) },
		"swapped with the next": func(ls [][]byte, i int) [][]byte {
			if i+1 < len(ls) {
				ls[i], ls[i+1] = ls[i+1], ls[i]
			}
			return ls
		},
	}
	for _, n := range []int{11, 12} {
		journal := pairJournal(t, n)
		for name, edit := range damage {
			for i := range journal {
				lines := make([][]byte, len(journal))
				for j, l := range journal {
					lines[j] = bytes.Clone(l)
				}
				lines = edit(lines, i)
				single := auditWith(t, lines, false, false)
				// Only a change is found: a last line deleted or swapped
				// with nothing leaves an intact journal (an expected head
				// would catch the deletion).
				last := i == len(journal)-1 && (name == "deleted" || name == "swapped with the next")
				if single.OK != (name == "intact" || last) {
					t.Fatalf("%d lines, %s at line %d: OK %v; findings %v", n, name, i, single.OK, single.Findings)
				}
				for _, fallback := range []bool{false, true} {
					if paired := auditWith(t, lines, true, fallback); !reflect.DeepEqual(paired, single) {
						t.Fatalf("%d lines, %s at line %d (crypto/sha256 under the pairs: %v): paired %+v, one at a time %+v",
							n, name, i, fallback, paired, single)
					}
				}
			}
		}
	}
}
