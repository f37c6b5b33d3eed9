package projections

import "context"

// EachRow calls fn with every key and value of the snapshot's store, in
// key order, until fn returns an error: the raw content, for comparing two
// stores built from the same journal (ADR 0028). fn must not keep key or
// value after it returns.
func (s *Snapshot) EachRow(ctx context.Context, fn func(key, value []byte) error) error {
	it, err := s.snap.NewIter(nil)
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}
