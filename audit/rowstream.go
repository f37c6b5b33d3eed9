package audit

import "context"

// rowBatchRows bounds the read model's rows fetched ahead of the journal,
// per batch and table (two batches are in flight at most).
const rowBatchRows = 256

// rowStream reads one of the read model's tables, in its order, on its
// own goroutine, ahead of the journal: the comparison walks it in step
// with the journal and never holds the whole table.
type rowStream[T any] struct {
	rows chan []T
	errc chan error
	cur  []T
	eof  bool
}

// streamRows starts reading rows with read, until the end, ctx is done or
// stop is closed.
func streamRows[T any](ctx context.Context, stop <-chan struct{}, read func(context.Context, func(T) error) error) *rowStream[T] {
	s := &rowStream[T]{rows: make(chan []T, 1), errc: make(chan error, 1)}
	go func() {
		defer close(s.rows)
		batch := make([]T, 0, rowBatchRows)
		send := func() error {
			select {
			case s.rows <- batch:
				batch = make([]T, 0, rowBatchRows)
				return nil
			case <-stop:
				return context.Canceled
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := read(ctx, func(r T) error {
			batch = append(batch, r)
			if len(batch) == rowBatchRows {
				return send()
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = send()
		}
		s.errc <- err
	}()
	return s
}

// peek returns the next row, nil at the end.
func (s *rowStream[T]) peek() (*T, error) {
	for len(s.cur) == 0 {
		if s.eof {
			return nil, nil
		}
		batch, ok := <-s.rows
		if !ok {
			s.eof = true
			if err := <-s.errc; err != nil {
				return nil, err
			}
			return nil, nil
		}
		s.cur = batch
	}
	return &s.cur[0], nil
}

// pop drops the row peek returned.
func (s *rowStream[T]) pop() { s.cur = s.cur[1:] }

// drain waits for the reader to end, once stop is closed.
func (s *rowStream[T]) drain() {
	for range s.rows {
	}
}

// each calls fn with every row left, in order.
func (s *rowStream[T]) each(fn func(*T)) error {
	for {
		r, err := s.peek()
		if r == nil || err != nil {
			return err
		}
		fn(r)
		s.pop()
	}
}
