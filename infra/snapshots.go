package infra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/journalio"
)

// snapshotPrefix starts every snapshot's object name; the rest is the
// ledger sequence, zero-padded so that names sort like sequences.
const snapshotPrefix = "seq-"

func snapshotName(seq uint64) string { return fmt.Sprintf("%s%020d", snapshotPrefix, seq) }

// SnapshotStore keeps processor snapshots in the ledger's object store.
type SnapshotStore struct {
	obs jetstream.ObjectStore
}

var _ commands.SnapshotStore = (*SnapshotStore)(nil)

// EnsureSnapshotStore creates or updates the ledger's snapshot bucket,
// idempotently, with replicas copies (0: keep what it has), and returns a
// store over it.
func EnsureSnapshotStore(ctx context.Context, js jetstream.JetStream, n journalio.Names, replicas int) (*SnapshotStore, error) {
	ctx, cancel := context.WithTimeout(ctx, streamSetupTimeout)
	defer cancel()
	replicas, err := replicasFor(ctx, js, ObjectStream(n.SnapshotBucket()), replicas)
	if err != nil {
		return nil, err
	}
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      n.SnapshotBucket(),
		Description: "ledger " + n.Ledger + " processor snapshots: derived from the journal, disposable",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot bucket: %w", err)
	}
	return &SnapshotStore{obs: obs}, nil
}

// Save stores r as the snapshot at seq. The object store writes the chunks
// first and the object's metadata last, so a snapshot is listed only when
// complete; a failed Put removes its chunks.
func (s *SnapshotStore) Save(ctx context.Context, seq uint64, r io.Reader) error {
	_, err := s.obs.Put(ctx, jetstream.ObjectMeta{Name: snapshotName(seq)}, r)
	return err
}

// List returns the stored snapshots, newest first. Objects that are not
// named like snapshots are ignored.
func (s *SnapshotStore) List(ctx context.Context) ([]commands.SnapshotInfo, error) {
	objs, err := s.obs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	out := make([]commands.SnapshotInfo, 0, len(objs))
	for _, o := range objs {
		seq, err := strconv.ParseUint(strings.TrimPrefix(o.Name, snapshotPrefix), 10, 64)
		if !strings.HasPrefix(o.Name, snapshotPrefix) || err != nil || o.Deleted {
			continue
		}
		out = append(out, commands.SnapshotInfo{Seq: seq, Size: int64(o.Size), Taken: o.ModTime})
	}
	slices.SortFunc(out, func(a, b commands.SnapshotInfo) int {
		switch {
		case a.Seq > b.Seq:
			return -1
		case a.Seq < b.Seq:
			return 1
		}
		return 0
	})
	return out, nil
}

// Load reads the snapshot at seq whole, and to its end, where the object
// store checks the object's digest.
func (s *SnapshotStore) Load(ctx context.Context, seq uint64, maxBytes int64) ([]byte, error) {
	info, err := s.obs.GetInfo(ctx, snapshotName(seq))
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", seq, err)
	}
	if info.Size > uint64(maxBytes) {
		return nil, fmt.Errorf("snapshot %d is %d bytes, more than the %d allowed", seq, info.Size, maxBytes)
	}
	res, err := s.obs.Get(ctx, snapshotName(seq))
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", seq, err)
	}
	defer res.Close()
	// Up to one byte more than announced, so that a longer object is
	// refused rather than cut; room for bytes.Buffer's read size, so that
	// the buffer is allocated once.
	buf := bytes.NewBuffer(make([]byte, 0, int(info.Size)+bytes.MinRead+1))
	if _, err := buf.ReadFrom(io.LimitReader(res, int64(info.Size)+1)); err != nil {
		return nil, fmt.Errorf("read snapshot %d: %w", seq, err)
	}
	if uint64(buf.Len()) != info.Size {
		return nil, fmt.Errorf("snapshot %d: read %d bytes, its metadata says %d", seq, buf.Len(), info.Size)
	}
	return buf.Bytes(), nil
}

// Delete removes the snapshot at seq.
func (s *SnapshotStore) Delete(ctx context.Context, seq uint64) error {
	if err := s.obs.Delete(ctx, snapshotName(seq)); err != nil {
		return fmt.Errorf("delete snapshot %d: %w", seq, err)
	}
	return nil
}
