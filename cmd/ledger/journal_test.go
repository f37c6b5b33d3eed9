package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/internal/ledgertest/journaltest"
	"github.com/nats-ledger/ledger/journalio"
)

// `ledger journal locate --seq N` answers the position of the record
// holding N in a stopped ledger's journal whose records hold up to four
// events, checked against the records' own events; a sequence past the
// end is an error that says where the journal ends, and 0 a usage error.
func TestJournalLocateCommand(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.Start(t, dir) // ledger "test"
	w := srv.Writer()
	w.MaxRecordEvents = 4
	w.Batch(t, journaltest.Minute(1), journaltest.DefineAsset("USD", 2))
	var cmds []domain.Command
	for i := range 10 {
		cmds = append(cmds, journaltest.OpenAccount(fmt.Sprintf("a%d", i), "USD", ""))
	}
	w.Batch(t, journaltest.Minute(2), cmds...) // seq 2-11: records of 4, 4, 2
	// The records as stored: the position of every sequence.
	want := map[uint64]uint64{}
	if _, err := journalio.ReadJournal(context.Background(), srv.JS, srv.Names, 1, func(r domain.Record) error {
		lines, err := domain.SplitRecord(r.Data)
		for _, line := range lines {
			ev, derr := domain.DecodeEvent(line)
			if derr != nil {
				return derr
			}
			want[ev.Seq] = r.Position
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if len(want) != 11 || want[11] != 4 {
		t.Fatalf("journal layout %v", want)
	}
	for _, seq := range []uint64{1, 2, 5, 6, 9, 10, 11} {
		out := mustRun(t, "journal", "locate", "--data-dir", dir, "--ledger", "test", "--seq", strconv.FormatUint(seq, 10), "--json")
		var loc journalio.Location
		if err := json.Unmarshal([]byte(out), &loc); err != nil || loc.Seq != seq || loc.Position != want[seq] ||
			loc.FirstSeq > seq || loc.LastSeq < seq || loc.Stream != "JOURNAL_test" {
			t.Fatalf("locate %d: %v %s; want position %d", seq, err, out, want[seq])
		}
	}
	out, errOut, err := ledgerCmd(t, "journal", "locate", "--data-dir", dir, "--ledger", "test", "--seq", "7")
	if err != nil || out != "ledger sequence 7: JOURNAL_test position 3 (AccountOpened, sequences 6-9)\n" ||
		!strings.Contains(errOut, "nats sub --stream JOURNAL_test --start-sequence 3") || !strings.Contains(errOut, "nats stream get JOURNAL_test 3 -j") {
		t.Fatalf("locate 7: %v\n%s%s", err, out, errOut)
	}
	_, _, err = ledgerCmd(t, "journal", "locate", "--data-dir", dir, "--ledger", "test", "--seq", "12")
	if !errors.Is(err, journalio.ErrSeqNotJournaled) || !strings.Contains(err.Error(), "ledger sequence 12 is not in the journal, which ends at 11") || exitStatus(err) != 1 {
		t.Fatalf("locate past the end: %v", err)
	}
	for _, args := range [][]string{{"journal", "locate", "--data-dir", dir, "--seq", "0"}, {"journal", "locate", "--data-dir", dir}, {"journal"}, {"journal", "find"}} {
		if _, _, err := ledgerCmd(t, args...); exitStatus(err) != 2 {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
