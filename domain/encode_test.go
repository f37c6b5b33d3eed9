package domain_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// FuzzAppendCanonical is the differential test of AppendEvent's fast
// writer: whenever it accepts an event, its bytes must be encoding/json's.
// The fuzzer picks the payload kind, every string (with escapes, HTML
// characters, invalid UTF-8), the numbers and the time.
func FuzzAppendCanonical(f *testing.F) {
	f.Add(uint64(7), "TransferPosted", 1, uint64(12), 0, int64(1_700_000_000_123456789), 0, uint8(2),
		"t-1", "alice", "bob", "5.00", "USD", "", "k", "v", "debit", "10.00", "")
	f.Add(uint64(1), "AssetDefined", 1, uint64(1), 2, int64(0), 3600, uint8(0), "USD", "", "", "", "", "", "", "", "", "", "")
	f.Add(uint64(2), "AccountOpened", 1, uint64(1), 3, int64(-62135596800), 0, uint8(1), "a", "USD", "unlimited", "own<er>", "", "", "z", "\u2028", "", "", "")
	f.Add(uint64(3), "TransferRejected", -1, uint64(1), 0, int64(253402300800), 0, uint8(3), "r", "w", "x", "1", "", "a & b", "", "", "insufficient_funds", "bal \"q\"", "h")
	f.Add(uint64(1<<63), "x\xffy", 0, uint64(0), -5, int64(1), 0, uint8(4), "\x00", "é", "\\", "", "", "\t", "k", "", "", "", "")
	f.Fuzz(func(t *testing.T, seq uint64, typ string, v int, cmdSeq uint64, item int, unixNano int64, offset int, kind uint8,
		s1, s2, s3, s4, s5, s6, mk, mv, s7, s8, s9 string) {
		tm := time.Unix(0, unixNano).UTC()
		if offset != 0 {
			tm = tm.In(time.FixedZone("", offset%86400))
		}
		ev := &domain.Event{Seq: seq, Type: domain.EventType(typ), Version: v, Command: domain.CommandRef{Seq: cmdSeq, Item: item},
			Time: tm, PrevHash: s9, Hash: s8}
		var meta map[string]string
		if mk != "" || mv != "" {
			meta = map[string]string{mk: mv, mk + "2": s1}
		}
		tr := domain.Transfer{ID: s1, From: s2, To: s3, Amount: s4, Asset: s5, Reference: s6, Metadata: meta}
		switch kind % 5 {
		case 0:
			ev.Asset = &domain.Asset{Code: s1, Scale: item}
		case 1:
			ev.Account = &domain.Account{ID: s1, Asset: s2, OverdraftLimit: s3, Owner: s4, Metadata: meta}
		case 2:
			ev.Transfer = &domain.PostedTransfer{Transfer: tr, Entries: [2]domain.Entry{
				{Account: s2, Type: s7, Amount: s4, Balance: s8}, {Account: s3, Type: "credit", Amount: s4, Balance: s9}}}
		case 3:
			ev.Rejection = &domain.RejectedTransfer{Transfer: tr, Code: domain.Code(s7), Detail: s8}
		}
		want, werr := json.Marshal(ev)
		got, ok := domain.AppendCanonical([]byte("prefix"), ev)
		if !ok {
			return
		}
		if werr != nil {
			t.Fatalf("fast writer encoded what encoding/json refuses (%v): %s", werr, got)
		}
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("fast writer disagrees with encoding/json:\n fast %s\n json %s", got[len("prefix"):], want)
		}
	})
}

// TestAppendCanonicalCoversProcessorEvents checks that the fast writer
// takes what the processor writes, so that it is the path in practice.
func TestAppendCanonicalCoversProcessorEvents(t *testing.T) {
	lines, _ := canonicalLines(t)
	fast := 0
	for _, l := range lines {
		ev, err := domain.DecodeEvent(l)
		if err != nil {
			t.Fatal(err)
		}
		ev.Hash = ""
		if got, ok := domain.AppendCanonical(nil, ev); ok {
			fast++
			want, _ := json.Marshal(ev)
			if !bytes.Equal(got, want) {
				t.Fatalf("fast writer disagrees:\n fast %s\n json %s", got, want)
			}
		} else if !bytes.ContainsAny(l, `\<>&`) && !bytes.ContainsFunc(l, func(r rune) bool { return r >= 0x80 }) {
			t.Errorf("fast writer refused a plain event: %s", l)
		}
	}
	if fast < len(lines)-4 {
		t.Fatalf("fast writer took %d of %d events", fast, len(lines))
	}
}
