package audit

import (
	"errors"
	"runtime/debug"
)

// ErrExportChanged means that an export file read through a mapping
// (source_map.go) shrank while it was read: what the run read of it is
// not a whole file, so it reports nothing of it.
var ErrExportChanged = errors.New("the export file shrank while it was audited")

// guardFaults makes a fault in the goroutine it is called in, at an
// address that was mapped, a panic that faultGuard can recover, rather
// than the end of the process; it returns a function that restores what
// the goroutine had before.
func guardFaults() (restore func()) {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

// faultGuard, deferred, turns the panic of a memory fault (see
// guardFaults) into ErrExportChanged in *err. Any other panic goes on.
func faultGuard(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if _, fault := r.(interface{ Addr() uintptr }); fault {
		*err = ErrExportChanged
		return
	}
	panic(r)
}
