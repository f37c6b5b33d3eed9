package sqlitestore

import "errors"

// ErrClosed means the Store was closed.
var ErrClosed = errors.New("projections store closed")
