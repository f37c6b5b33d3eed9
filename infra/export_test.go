package infra

// FreezeRenewals stops the lease's renewals, and its holder's noticing
// that it ran out, until resume is called: what a SIGSTOP does to a
// process that holds the lease.
func (l *Lease) FreezeRenewals() (resume func()) {
	ch := make(chan struct{})
	l.frozen.Store(&ch)
	return func() {
		l.frozen.Store(nil)
		close(ch)
	}
}
