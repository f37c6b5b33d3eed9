package commands

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// A snapshot is the processor's state at a ledger sequence, with where that
// sequence is in the journal, so that a start-up replays only the journal
// after it (docs/adr/0005-snapshots.md). Format version 1:
//
//	magic "LGRSNAP\n", format version uint16
//	ledger sequence uint64, journal position uint64, last event hash [32],
//	last command seq uint64, last command item int64
//	the state (domain.Image.WriteTo, versioned on its own)
//	SHA-256 of every byte above [32]
//
// Integers are big-endian. The header repeats what the state holds (the
// sequence, the last command) so that each is checked against the other.

// SnapshotFormatVersion is the snapshot container version this code writes
// and the only one it reads.
const SnapshotFormatVersion = 1

const (
	snapshotMagic     = "LGRSNAP\n"
	snapshotHeaderLen = len(snapshotMagic) + 2 + 8 + 8 + domain.HashSize + 8 + 8
	snapshotSumLen    = sha256.Size
)

// Errors of reading snapshots.
var (
	// ErrBadSnapshot means a snapshot is damaged, truncated, of another
	// format version or inconsistent: it is skipped at start-up.
	ErrBadSnapshot = errors.New("bad snapshot")
	// errSnapshotAhead means a snapshot claims more journal than there is.
	errSnapshotAhead = errors.New("snapshot is ahead of the journal")
)

// Snapshot is a decoded snapshot.
type Snapshot struct {
	Seq      uint64      // ledger sequence of the last event in it
	Position uint64      // journal position of the record holding that event
	LastHash domain.Hash // that event's hash
	State    *domain.State
}

// WriteSnapshot writes the snapshot of im, taken when the journal ended at
// position with an event of hash last, and returns the bytes written.
func WriteSnapshot(w io.Writer, im *domain.Image, position uint64, last domain.Hash) (int64, error) {
	sum := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, sum)}
	h := make([]byte, 0, snapshotHeaderLen)
	h = append(h, snapshotMagic...)
	h = binary.BigEndian.AppendUint16(h, SnapshotFormatVersion)
	h = binary.BigEndian.AppendUint64(h, im.Seq())
	h = binary.BigEndian.AppendUint64(h, position)
	h = append(h, last[:]...)
	h = binary.BigEndian.AppendUint64(h, im.LastCommand().Seq)
	h = binary.BigEndian.AppendUint64(h, uint64(int64(im.LastCommand().Item)))
	if _, err := cw.Write(h); err != nil {
		return cw.n, err
	}
	if _, err := im.WriteTo(cw); err != nil {
		return cw.n, err
	}
	n, err := w.Write(sum.Sum(nil))
	return cw.n + int64(n), err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadSnapshot decodes a snapshot and checks its checksum, its version and
// that its header agrees with its state. Errors wrap ErrBadSnapshot.
func ReadSnapshot(data []byte) (*Snapshot, error) {
	if len(data) < snapshotHeaderLen+snapshotSumLen {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrBadSnapshot, len(data))
	}
	body, sum := data[:len(data)-snapshotSumLen], data[len(data)-snapshotSumLen:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: checksum mismatch (damaged or truncated)", ErrBadSnapshot)
	}
	if string(body[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a snapshot", ErrBadSnapshot)
	}
	h := body[len(snapshotMagic):]
	if v := binary.BigEndian.Uint16(h); v != SnapshotFormatVersion {
		return nil, fmt.Errorf("%w: format version %d, this code reads %d", ErrBadSnapshot, v, SnapshotFormatVersion)
	}
	h = h[2:]
	s := &Snapshot{Seq: binary.BigEndian.Uint64(h), Position: binary.BigEndian.Uint64(h[8:])}
	copy(s.LastHash[:], h[16:])
	h = h[16+domain.HashSize:]
	cmd := domain.CommandRef{Seq: binary.BigEndian.Uint64(h), Item: int(int64(binary.BigEndian.Uint64(h[8:])))}
	s.State = new(domain.State)
	if err := s.State.UnmarshalBinary(body[snapshotHeaderLen:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if s.State.Seq() != s.Seq || s.State.LastCommand() != cmd {
		return nil, fmt.Errorf("%w: header (sequence %d, command %v) disagrees with the state (%d, %v)",
			ErrBadSnapshot, s.Seq, cmd, s.State.Seq(), s.State.LastCommand())
	}
	if s.Seq == 0 || s.Position == 0 {
		return nil, fmt.Errorf("%w: empty", ErrBadSnapshot)
	}
	return s, nil
}

// Restored is the state a start-up restored, and where it stands.
type Restored struct {
	State    *domain.State
	LastHash domain.Hash // the hash of the journal's last event
	Position uint64      // the journal's last position
	Snapshot uint64      // the sequence of the snapshot started from; 0 after a full replay
}

// Restore builds the processor's state at start-up: from the newest
// snapshot in snaps that is sound and matches the journal, plus the
// journal after it, or else from the whole journal. It logs every snapshot
// it skips and why. A nil snaps means a full replay. Only the full
// replay's errors are returned: a journal that fails verification wraps
// ErrCorruptJournal.
func Restore(ctx context.Context, j Journal, snaps SnapshotStore, maxBytes int64, log *slog.Logger) (Restored, error) {
	return restore(ctx, j, snaps, maxBytes, log, archiving{})
}

// restore is Restore with the processor's archive of posted ids: a
// snapshot whose watermark is beyond the archive's is skipped (its
// evicted ids are not all there), and replays archive as they go.
func restore(ctx context.Context, j Journal, snaps SnapshotStore, maxBytes int64, log *slog.Logger, arch archiving) (Restored, error) {
	if snaps != nil {
		infos, err := snaps.List(ctx)
		if err != nil {
			log.Warn("cannot list snapshots; replaying the whole journal", "err", err)
		}
		for _, info := range infos {
			start := time.Now()
			st, last, pos, err := restoreFrom(ctx, j, snaps, info, maxBytes, arch)
			if err == nil {
				log.Info("state restored from a snapshot", "snapshot", info.Seq, "events", st.Seq(),
					"tail", st.Seq()-info.Seq, "position", pos, "elapsed", time.Since(start))
				return Restored{State: st, LastHash: last, Position: pos, Snapshot: info.Seq}, nil
			}
			if ctx.Err() != nil {
				return Restored{}, ctx.Err()
			}
			log.Warn("skipping snapshot", "snapshot", info.Seq, "err", err)
		}
	}
	st, last, pos, err := rebuildWith(ctx, j, arch)
	if err != nil {
		return Restored{}, err
	}
	return Restored{State: st, LastHash: last, Position: pos}, nil
}

func restoreFrom(ctx context.Context, j Journal, snaps SnapshotStore, info SnapshotInfo, maxBytes int64, arch archiving) (*domain.State, domain.Hash, uint64, error) {
	data, err := snaps.Load(ctx, info.Seq, maxBytes)
	if err != nil {
		return nil, domain.Hash{}, 0, fmt.Errorf("load: %w", err)
	}
	snap, err := ReadSnapshot(data)
	data = nil // the state is decoded; let the bytes go before the replay
	if err != nil {
		return nil, domain.Hash{}, 0, err
	}
	if snap.Seq != info.Seq {
		return nil, domain.Hash{}, 0, fmt.Errorf("%w: stored as %d, holds sequence %d", ErrBadSnapshot, info.Seq, snap.Seq)
	}
	if w := snap.State.ArchivedThrough(); w > arch.through {
		return nil, domain.Hash{}, 0, fmt.Errorf("the snapshot's posted ids through sequence %d are archived, and the archive holds them only through %d", w, arch.through)
	}
	// The record at the snapshot's position must end with the snapshot's
	// last event; the tail then has to chain from its hash.
	anchor := func(r domain.Record) error {
		err := recordEndsWith(r, snap.Seq, snap.LastHash)
		if errors.Is(err, errAnchorMismatch) {
			return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
		}
		return err
	}
	last, pos, err := replayOnto(ctx, j, snap.Position, snap.State, snap.LastHash, anchor, arch)
	if err != nil {
		return nil, domain.Hash{}, 0, fmt.Errorf("journal after the snapshot: %w", err)
	}
	return snap.State, last, pos, nil
}

// errAnchorMismatch means the journal's record at a snapshot's or an
// archive's position does not end with the event they were taken at.
var errAnchorMismatch = errors.New("the journal does not end there with that event")

// recordEndsWith checks that record r ends with event seq of hash h.
func recordEndsWith(r domain.Record, seq uint64, h domain.Hash) error {
	lines, err := domain.SplitRecord(r.Data)
	if err != nil {
		return fmt.Errorf("record %d: %w", r.Position, err)
	}
	ev, err := domain.DecodeEvent(lines[len(lines)-1])
	if err != nil {
		return fmt.Errorf("record %d: %w", r.Position, err)
	}
	if got, err := domain.ParseHash(ev.Hash); err != nil || ev.Seq != seq || got != h {
		return fmt.Errorf("%w: record %d ends with sequence %d hash %s, not %d hash %s",
			errAnchorMismatch, r.Position, ev.Seq, ev.Hash, seq, h)
	}
	return nil
}

// saveSnapshot encodes im and stores it, streaming, then prunes the
// snapshots beyond the newest kept. It runs on its own goroutine.
func saveSnapshot(ctx context.Context, snaps SnapshotStore, im *domain.Image, position uint64, last domain.Hash, kept int) (int64, error) {
	pr, pw := io.Pipe()
	written := make(chan int64, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		n, err := WriteSnapshot(bw, im, position, last)
		if err == nil {
			err = bw.Flush()
		}
		written <- n
		pw.CloseWithError(err)
	}()
	err := snaps.Save(ctx, im.Seq(), pr)
	pr.CloseWithError(errStopped) // unblocks the writer if Save stopped reading
	n := <-written
	if err != nil {
		return n, fmt.Errorf("save snapshot %d: %w", im.Seq(), err)
	}
	infos, err := snaps.List(ctx)
	if err != nil {
		return n, fmt.Errorf("list snapshots: %w", err)
	}
	for i, info := range infos {
		if i >= kept && info.Seq < im.Seq() {
			if err := snaps.Delete(ctx, info.Seq); err != nil {
				return n, fmt.Errorf("delete snapshot %d: %w", info.Seq, err)
			}
		}
	}
	return n, nil
}

// nextWait bounds the wait for commands by when a snapshot falls due, if
// events are waiting for one; while one is being written, by a short poll,
// so that a snapshot that fell due meanwhile follows it.
func (p *Processor) nextWait(ctx context.Context) (context.Context, context.CancelFunc) {
	switch {
	case p.cfg.Snapshots == nil || p.state.Seq() == p.snapSeq:
		return ctx, func() {}
	case p.snapBusy.Load():
		return context.WithTimeout(ctx, snapshotPoll)
	}
	return context.WithDeadline(ctx, p.snapAt.Add(p.cfg.SnapshotInterval))
}

// maybeSnapshot takes a snapshot when one is due and none is being
// written. It runs between batches, when the state is exactly the
// journal up to p.position. The processor pauses only while the state is
// copied (domain.State.Image); encoding and storing happen on another
// goroutine.
func (p *Processor) maybeSnapshot() {
	if p.cfg.Snapshots == nil || p.snapBusy.Load() {
		return
	}
	// A snapshot that failed to save is due again, counting from the last
	// one saved; the time trigger then retries it after the interval.
	p.snapSeq = min(p.snapSeq, p.snapSaved.Load())
	seq := p.state.Seq()
	if seq == p.snapSeq || seq-p.snapSeq < p.cfg.SnapshotEvery && time.Since(p.snapAt) < p.cfg.SnapshotInterval {
		return
	}
	start := time.Now()
	im := p.state.Image()
	pause := time.Since(start)
	p.snapSeq, p.snapAt = seq, time.Now()
	p.snapBusy.Store(true)
	p.snapWG.Add(1)
	position, last := p.position, p.lastHash
	go func() {
		defer p.snapWG.Done()
		defer p.snapBusy.Store(false)
		ctx, cancel := context.WithTimeout(p.snapCtx, snapshotSaveTimeout)
		defer cancel()
		start := time.Now()
		n, err := saveSnapshot(ctx, p.cfg.Snapshots, im, position, last, p.cfg.SnapshotsKept)
		if err != nil {
			p.cfg.Logger.Warn("snapshot not saved", "seq", seq, "err", err)
			return
		}
		p.snapSaved.Store(seq)
		p.cfg.Observer.Snapshot(time.Since(start), time.Now())
		p.cfg.Logger.Info("snapshot saved", "seq", seq, "position", position, "bytes", n,
			"pause", pause, "elapsed", time.Since(start))
	}()
}
