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

// searchStepsMax bounds the direct gets of one search: 64 halvings cover
// every possible stream position.
const searchStepsMax = 64

// ErrNotRecord means a message of the journal stream lacks the record
// headers (Ledger-First-Seq, Ledger-Last-Seq), so it is not a ledger
// record.
var ErrNotRecord = errors.New("not a ledger journal record")

// RecordPosition returns the position of the record holding ledger
// sequence seq, or of the first record after it, by binary search over the
// records' Ledger-Last-Seq headers: sequences grow with positions, and the
// journal denies deletes, so positions run from the first without holes.
// Past the journal's end it returns the next position to be written. It
// costs at most about log2(records) direct gets; a record without the
// headers is an error wrapping ErrNotRecord.
func RecordPosition(ctx context.Context, stream jetstream.Stream, seq uint64) (uint64, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("journal stream info: %w", err)
	}
	first, last := max(info.State.FirstSeq, 1), info.State.LastSeq
	if last == 0 || info.State.Msgs == 0 {
		return last + 1, nil
	}
	if end, err := RecordAt(ctx, stream, last); err != nil || end.LastSeq < seq {
		return last + 1, err
	}
	lo, hi := first, last // the answer is in [lo, hi]
	for step := 0; lo < hi; step++ {
		if step == searchStepsMax {
			return 0, fmt.Errorf("journal search for sequence %d did not converge", seq)
		}
		mid := lo + (hi-lo)/2
		loc, err := RecordAt(ctx, stream, mid)
		if err != nil {
			return 0, err
		}
		if loc.LastSeq >= seq {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// Locate finds the record holding ledger sequence seq (RecordPosition).
// It returns a *SeqNotJournaledError for 0 or a sequence past the end, and
// an error naming the record for one without the ledger's headers.
func Locate(ctx context.Context, js jetstream.JetStream, n Names, seq uint64) (Location, error) {
	stream, err := js.Stream(ctx, n.JournalStream)
	if err != nil {
		return Location{}, fmt.Errorf("journal stream: %w", err)
	}
	pos, err := RecordPosition(ctx, stream, max(seq, 1))
	if err != nil {
		return Location{}, err
	}
	loc, err := RecordAt(ctx, stream, pos)
	if seq == 0 || errors.Is(err, jetstream.ErrMsgNotFound) { // past the end
		end, err := ReadJournalEnd(ctx, js, n)
		if err != nil {
			return Location{}, err
		}
		return Location{}, &SeqNotJournaledError{Seq: seq, Last: end.Seq}
	}
	if err != nil {
		return Location{}, err
	}
	if loc.FirstSeq > seq || loc.LastSeq < seq {
		return Location{}, fmt.Errorf("journal record %d holds sequences %d-%d, not %d: the journal has a gap (run ledger audit)", pos, loc.FirstSeq, loc.LastSeq, seq)
	}
	loc.Seq, loc.Stream = seq, n.JournalStream
	return loc, nil
}

// RecordAt reads the record at pos (a direct get) and its headers; a
// record without them is an error wrapping ErrNotRecord.
func RecordAt(ctx context.Context, stream jetstream.Stream, pos uint64) (Location, error) {
	msg, err := stream.GetMsg(ctx, pos)
	if err != nil {
		return Location{}, fmt.Errorf("journal record %d: %w", pos, err)
	}
	loc := Location{Position: pos, Subject: msg.Subject, Type: msg.Subject[strings.LastIndexByte(msg.Subject, '.')+1:]}
	first, ferr := strconv.ParseUint(msg.Header.Get(HeaderFirstSeq), 10, 64)
	last, lerr := strconv.ParseUint(msg.Header.Get(HeaderLastSeq), 10, 64)
	if ferr != nil || lerr != nil || first == 0 || last < first {
		return Location{}, fmt.Errorf("journal record %d: headers %s %q, %s %q: %w", pos,
			HeaderFirstSeq, msg.Header.Get(HeaderFirstSeq), HeaderLastSeq, msg.Header.Get(HeaderLastSeq), ErrNotRecord)
	}
	loc.FirstSeq, loc.LastSeq = first, last
	return loc, nil
}
