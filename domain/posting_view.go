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

// PostingView sets pv to the view of a line that Prepare read with the
// posting reader and returns true; false is Posting's (pv is then left
// as it was): it says nothing about the line, which View then reads as
// any other. pv is filled in place: a reader of millions of lines keeps
// one. A reader that keeps one Line for its lines also has each time's
// Unix seconds made once for the lines on its second, and the days once
// for those on its date (the posting reader's memo, decode_memo.go).
func (l *Line) PostingView(pv *PostingView) bool {
	num := &l.view.numbers
	if !l.canonical || !num.ok {
		return false
	}
	v := &l.view
	pv.Seq, pv.Command, pv.Unix, pv.Nanos = v.seq, v.command, v.unix, v.clock.nsec
	tr := &v.transfer
	pv.ID, pv.From, pv.To, pv.Asset, pv.Reference = l.text(tr.id), l.text(tr.from), l.text(tr.to), l.text(tr.asset), l.text(tr.reference)
	// Each field set in place: a composite literal is built on the stack,
	// cleared first, and copied.
	pn := &pv.Numbers
	pn.Amount, pn.Debit, pn.Credit = AmountFromInt64(num.values[0]), AmountFromInt64(num.values[1]), AmountFromInt64(num.values[2])
	pn.Places[0], pn.Places[1], pn.Places[2] = int(num.places[0]), int(num.places[1]), int(num.places[2])
	return true
}

// text is the string s of a line the posting reader took, without a copy
// and without a bounds check: the reader found s within the line (its
// length as a uint32 leaves unsafe.String one check fewer, the sign's).
func (l *Line) text(s span) string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(l.raw)), s.a)), uint32(s.b-s.a))
}
