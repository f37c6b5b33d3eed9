package domain

import "unsafe"

// PostingView is what a reader that keeps its own books needs of a
// TransferPosted line that the posting reader took (Line.Posting),
// without the Event that Line.View builds: its sequence, command and
// time, its numbers, and the strings that name its transfer, its
// accounts and its asset. The strings are views of the line's bytes, as
// View's are (valid while Prepare's contract holds); a reader that wants
// the rest (the entries, the metadata) views the line then.
//
// Such a line is, besides (Line.Posting): a transfer with an asset,
// neither a memo nor a reversal, whose entries are a debit of From and a
// credit of To, each of Amount.
type PostingView struct {
	Seq     uint64
	Command CommandRef
	// Unix and Nanos are the event's time, a compact form of what View
	// sets as Event.Time: time.Unix(Unix, int64(Nanos)).UTC().
	Unix  int64
	Nanos int32
	// ID, From, To, Asset and Reference are the transfer's.
	ID, From, To, Asset, Reference string
	Numbers                        PostingNumbers
}

// PostingView returns the view of a line that Prepare read with the
// posting reader; ok is Posting's: false says nothing about the line,
// which View then reads as any other.
func (l *Line) PostingView() (pv PostingView, ok bool) {
	n, ok := l.Posting()
	if !ok {
		return pv, false
	}
	v := &l.view
	s := unsafe.String(unsafe.SliceData(l.raw), len(l.raw))
	t := v.clock.time()
	return PostingView{
		Seq: v.seq, Command: v.command, Unix: t.Unix(), Nanos: int32(t.Nanosecond()),
		ID: v.transfer.id.of(s), From: v.transfer.from.of(s), To: v.transfer.to.of(s),
		Asset: v.transfer.asset.of(s), Reference: v.transfer.reference.of(s),
		Numbers: n,
	}, true
}
