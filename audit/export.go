package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
)

// exportBufferBytes sizes the export's write buffer.
const exportBufferBytes = 1 << 20

// ExportStats says what an export wrote.
type ExportStats struct {
	Lines    uint64
	FirstSeq uint64
	LastSeq  uint64
}

// Export writes the stored lines of sequences from to to (0: the journal's
// end) to w as JSON Lines, each exactly as stored: the event with its
// sequence, prev_hash and hash, then '\n'. It copies bytes and verifies
// nothing, so that what an auditor checks is what the journal holds; a
// line whose sequence cannot be read counts as the one after its
// predecessor.
func Export(ctx context.Context, src Source, from, to uint64, w io.Writer) (ExportStats, error) {
	var st ExportStats
	if from == 0 {
		from = 1
	}
	if to != 0 && to < from {
		return st, fmt.Errorf("export: --to %d is before --from %d", to, from)
	}
	bw := bufio.NewWriterSize(w, exportBufferBytes)
	var last uint64
	err := src.Read(ctx, from, func(c Chunk) error {
		for _, line := range c.Lines {
			seq, ok := LineSeq(line)
			if !ok {
				seq = last + 1
			}
			last = seq
			if seq < from {
				continue
			}
			if to != 0 && seq > to {
				return errStop
			}
			if st.Lines == 0 {
				st.FirstSeq = seq
			}
			st.Lines++
			st.LastSeq = seq
			bw.Write(line)
			if err := bw.WriteByte('\n'); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("export: %w", err)
	}
	return st, nil
}
