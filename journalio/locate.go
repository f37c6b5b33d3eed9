package journalio

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Location is where a ledger sequence is in the journal stream: the
// record (one JetStream message, a run of events) that holds it. Position
// is what the nats CLI and JetStream consumers take (`nats stream get
// JOURNAL_<L> <position>`, a consumer's start sequence); a ledger sequence
// is not one, since a record holds up to 1,000 events.
type Location struct {
	Seq      uint64 `json:"seq"`      // the ledger sequence asked for
	Stream   string `json:"stream"`   // JOURNAL_<L>
	Position uint64 `json:"position"` // the record's stream sequence
	Subject  string `json:"subject"`  // ledger.<L>.journal.<type>
	Type     string `json:"type"`     // the record's event type
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
}

// ErrSeqNotJournaled means the journal does not (yet) hold the ledger
// sequence asked for: it is 0 or past the journal's last event.
var ErrSeqNotJournaled = errors.New("ledger sequence not in the journal")

// SeqNotJournaledError is ErrSeqNotJournaled with the numbers.
type SeqNotJournaledError struct {
	Seq  uint64 // asked for
	Last uint64 // the journal's last ledger sequence (0: empty)
}

func (e *SeqNotJournaledError) Error() string {
	if e.Seq == 0 {
		return "ledger sequences start at 1"
	}
	return fmt.Sprintf("ledger sequence %d is not in the journal, which ends at %d", e.Seq, e.Last)
}

func (e *SeqNotJournaledError) Unwrap() error { return ErrSeqNotJournaled }

// locateStepsMax bounds the direct gets of one Locate: 64 halvings cover
// every possible stream position, and two more read the journal's end.
const locateStepsMax = 64

// Locate finds the record holding ledger sequence seq by binary search
// over the records' Ledger-Last-Seq headers: sequences grow with
// positions, and the journal denies deletes, so positions run from the
// first without holes. It costs at most about log2(records) direct gets.
// It returns a *SeqNotJournaledError for 0 or a sequence past the end, and
// an error naming the record for one without the ledger's headers.
func Locate(ctx context.Context, js jetstream.JetStream, n Names, seq uint64) (Location, error) {
	stream, err := js.Stream(ctx, n.JournalStream)
	if err != nil {
		return Location{}, fmt.Errorf("journal stream: %w", err)
	}
	st := stream.CachedInfo().State
	lo, hi := max(st.FirstSeq, 1), st.LastSeq
	if hi == 0 || st.Msgs == 0 {
		return Location{}, &SeqNotJournaledError{Seq: seq}
	}
	end, err := locateRecord(ctx, stream, hi)
	if err != nil {
		return Location{}, err
	}
	if seq == 0 || seq > end.LastSeq {
		return Location{}, &SeqNotJournaledError{Seq: seq, Last: end.LastSeq}
	}
	for step := 0; lo < hi; step++ { // the record is in [lo, hi]
		if step == locateStepsMax {
			return Location{}, fmt.Errorf("journal search for sequence %d did not converge", seq)
		}
		mid := lo + (hi-lo)/2
		loc, err := locateRecord(ctx, stream, mid)
		if err != nil {
			return Location{}, err
		}
		if loc.LastSeq >= seq {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	loc, err := locateRecord(ctx, stream, lo)
	if err != nil {
		return Location{}, err
	}
	if loc.FirstSeq > seq || loc.LastSeq < seq {
		return Location{}, fmt.Errorf("journal record %d holds sequences %d-%d, not %d: the journal has a gap (run ledger audit)", lo, loc.FirstSeq, loc.LastSeq, seq)
	}
	loc.Seq, loc.Stream = seq, n.JournalStream
	return loc, nil
}

// locateRecord reads the record at pos (a direct get) and its headers.
func locateRecord(ctx context.Context, stream jetstream.Stream, pos uint64) (Location, error) {
	msg, err := stream.GetMsg(ctx, pos)
	if err != nil {
		return Location{}, fmt.Errorf("journal record %d: %w", pos, err)
	}
	loc := Location{Position: pos, Subject: msg.Subject, Type: msg.Subject[strings.LastIndexByte(msg.Subject, '.')+1:]}
	first, ferr := strconv.ParseUint(msg.Header.Get(HeaderFirstSeq), 10, 64)
	last, lerr := strconv.ParseUint(msg.Header.Get(HeaderLastSeq), 10, 64)
	if ferr != nil || lerr != nil || first == 0 || last < first {
		return Location{}, fmt.Errorf("journal record %d: headers %s %q, %s %q: not a ledger record", pos,
			HeaderFirstSeq, msg.Header.Get(HeaderFirstSeq), HeaderLastSeq, msg.Header.Get(HeaderLastSeq))
	}
	loc.FirstSeq, loc.LastSeq = first, last
	return loc, nil
}
