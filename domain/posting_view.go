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
	tr, base := &v.transfer, unsafe.Pointer(unsafe.SliceData(l.raw))
	setText(&pv.ID, base, tr.id)
	setText(&pv.From, base, tr.from)
	setText(&pv.To, base, tr.to)
	setText(&pv.Asset, base, tr.asset)
	setText(&pv.Reference, base, tr.reference)
	// Each field set in place: a composite literal is built on the stack,
	// cleared first, and copied. An amount from an int64 is its sign's
	// word (the shift's copies of the sign bit: AmountFromInt64's -1 or
	// 0) and its bits, without AmountFromInt64's branch.
	pn := &pv.Numbers
	pn.Amount = Amount{hi: num.values[0] >> 63, lo: uint64(num.values[0])}
	pn.Debit = Amount{hi: num.values[1] >> 63, lo: uint64(num.values[1])}
	pn.Credit = Amount{hi: num.values[2] >> 63, lo: uint64(num.values[2])}
	pn.Places[0], pn.Places[1], pn.Places[2] = int(num.places[0]), int(num.places[1]), int(num.places[2])
	return true
}

// stringHeader is a string's layout, as the runtime and unsafe.String
// build it: its bytes and its length.
type stringHeader struct {
	data unsafe.Pointer
	len  int
}

// setText sets *dst to the string s of a line the posting reader took,
// whose bytes start at base: a view without a copy, and without the
// checks of a slice's bounds or unsafe.String's (its length's sign, the
// pointer's overflow), which the reader's spans need not: each lies
// within the line (0 <= s.a <= s.b <= len(line)).
func setText(dst *string, base unsafe.Pointer, s span) {
	*(*stringHeader)(unsafe.Pointer(dst)) = stringHeader{unsafe.Add(base, s.a), int(s.b - s.a)}
}
