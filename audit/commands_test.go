package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// TestCommandsCheck checks that the audit accounts for every command
// message: a journal that skips one, and a commands stream that lost
// undecided commands or was recreated below the journal, are reported.
func TestCommandsCheck(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	seedScenario(l)
	rep := run(t, l.source(), audit.Options{}).Report
	mustOK(t, rep)
	if rep.LastCommand != 5 || rep.Commands == nil || rep.Commands.FirstSeq != 6 || rep.Commands.Undecided != 0 {
		t.Fatalf("commands: last %d, stream %+v", rep.LastCommand, rep.Commands)
	}

	// Two commands accepted and not yet decided: nothing is wrong.
	for range 2 {
		if _, err := l.JS.Publish(ctx, l.Names.CommandsSubject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	rep = run(t, l.source(), audit.Options{}).Report
	mustOK(t, rep)
	if rep.Commands.Undecided != 2 {
		t.Fatalf("undecided: %+v", rep.Commands)
	}

	// Command 6 deleted before it was decided: the stream now starts at 7.
	stream, err := l.JS.Stream(ctx, l.Names.CommandsStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, 6); err != nil {
		t.Fatal(err)
	}
	wantFinding(t, run(t, l.source(), audit.Options{}).Report, "commands 6 to 6 were accepted into COMMANDS_test but are neither in the journal nor in the stream")

	// The stream recreated: its sequences start again at 1.
	if err := l.JS.DeleteStream(ctx, l.Names.CommandsStream); err != nil {
		t.Fatal(err)
	}
	if _, err := l.JS.CreateStream(ctx, jetstream.StreamConfig{Name: l.Names.CommandsStream, Subjects: []string{l.Names.CommandsSubject}}); err != nil {
		t.Fatal(err)
	}
	wantFinding(t, run(t, l.source(), audit.Options{}).Report, "ends at command 0, before the journal's last decided command 5")
}

// TestCommandAnsweredByNoEvent checks that a journal whose events skip a
// command message (acknowledged, never decided) fails the commands check,
// and that one answering commands out of order does too.
func TestCommandAnsweredByNoEvent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cmds   []uint64
		detail string
	}{
		{"in order", []uint64{1, 2, 2, 3}, ""},
		{"one missing", []uint64{1, 3}, "command 2 is answered by no event: event 2 answers command 3"},
		{"several missing", []uint64{1, 2, 6}, "commands 3 to 5 are answered by no event"},
		{"first missing", []uint64{2}, "command 1 is answered by no event"},
		{"out of order", []uint64{1, 2, 3, 2}, "event 4 answers command 2, after an event that answers command 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := domain.NewState()
			var data []byte
			var prev domain.Hash
			for i, c := range tc.cmds {
				d := st.Decide(domain.Command{Ref: domain.CommandRef{Seq: c}, Asset: &domain.Asset{Code: fmt.Sprintf("A%d", i), Scale: 2}}, minute(i))
				var err error
				if data, prev, err = domain.AppendEvent(data, d.Event, prev); err != nil {
					t.Fatal(err)
				}
			}
			rep := run(t, &audit.FileSource{Path: writeLines(t, [][]byte{data})}, audit.Options{}).Report
			if tc.detail == "" {
				mustOK(t, rep)
				if rep.LastCommand != tc.cmds[len(tc.cmds)-1] {
					t.Fatalf("last command %d", rep.LastCommand)
				}
				return
			}
			wantFinding(t, rep, tc.detail)
		})
	}
}

func wantFinding(t *testing.T, rep *audit.Report, detail string) {
	t.Helper()
	f, ok := rep.First(audit.CheckCommands)
	if rep.OK || !ok || !strings.Contains(f.Detail, detail) {
		t.Fatalf("want a commands finding containing %q; ok %v, findings %v", detail, rep.OK, rep.Findings)
	}
}
