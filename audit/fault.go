package audit

import (
	"errors"
	"runtime/debug"
)

// ErrExportChanged means that an export file read through a mapping
// (source_map.go) changed while it was read: it shrank, or a line read
// once read differently later. What the run read of it is not one file,
// so it reports nothing of it.
var ErrExportChanged = errors.New("the export file changed while it was audited")

// lineChanged is the panic of a line that decoded when a worker read it
// and does not when the books read it again (lazyEvent): its bytes, a
// mapped export's, changed in between. faultGuard makes it
// ErrExportChanged.
type lineChanged struct{ err error }

// guardFaults makes a fault in the goroutine it is called in, at an
// address that was mapped, a panic that faultGuard can recover, rather
// than the end of the process; it returns a function that restores what
// the goroutine had before.
func guardFaults() (restore func()) {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

// faultGuard, deferred, turns the panic of a memory fault (see
// guardFaults) or of a line that changed (lineChanged) into
// ErrExportChanged in *err. Any other panic goes on.
func faultGuard(err *error) {
	r := recover()
	if r == nil {
		return
	}
	switch r.(type) {
	case interface{ Addr() uintptr }, lineChanged:
		*err = ErrExportChanged
		return
	}
	panic(r)
}
