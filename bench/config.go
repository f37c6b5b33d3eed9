package bench

import (
	"errors"
	"fmt"
	"time"
)

// Limits: the tool runs for a bounded time against a bounded data set and
// stops by itself.
const (
	// BatchMax is the API's documented maximum of transfers in one
	// POST /v1/transfers/batch.
	BatchMax = 1_000
	// AccountsMax bounds the accounts opened, funded and read back.
	AccountsMax = 1_000_000
	// ConcurrencyMax bounds the workers (and open connections); each keeps
	// a latency histogram of about 150 KB.
	ConcurrencyMax = 1_024
	// DurationMax bounds the measured run; WarmupMax the warm-up.
	DurationMax = time.Hour
	WarmupMax   = time.Minute
	// ReadyWaitMax bounds waiting for the ledger to be ready.
	ReadyWaitMax = 10 * time.Minute
	// RateMax bounds --rate: requests a second, far above what one
	// machine's client sends.
	RateMax = 1_000_000
)

// Defaults of the ledger bench flags.
const (
	DefaultConcurrency = 64
	DefaultDuration    = 10 * time.Second
	DefaultWarmup      = time.Second
	DefaultAccounts    = 1_000
	DefaultBatch       = 1
	DefaultReadyWait   = 2 * time.Minute
)

// Config is one bench run.
type Config struct {
	// URL is a running ledger's base URL (http://host:port). Empty: start
	// a ledger in this process on DataDir, or on a temporary directory
	// removed at the end when DataDir is empty too.
	URL string
	// Token is an admin bearer token for URL. A self-started ledger gets
	// an admin JWT signed with its own key instead.
	Token string
	// DataDir is the self-started ledger's data directory.
	DataDir string
	// SyncAlways fsyncs every journal write of the self-started ledger.
	SyncAlways bool

	Concurrency int
	Duration    time.Duration // measured
	Warmup      time.Duration // before Duration, not measured
	Batch       int           // 1: POST /v1/transfers; more: POST /v1/transfers/batch
	Accounts    int
	Async       bool // send Prefer: respond-async
	// Rate, when above zero, paces the load: requests start on a fixed
	// schedule of Rate a second across all workers (open loop), and a
	// request's latency is measured from its scheduled start, so that time
	// spent waiting for a free worker counts (no coordinated omission).
	// Zero: each worker sends its next request as soon as the last is
	// answered (closed loop).
	Rate float64
	// Baseline also measures a trivial Echo handler and raw JetStream
	// publishing, before the ledger run.
	Baseline bool
	// ReadyWait bounds waiting for the ledger to answer /readyz 200,
	// before the run and before the final check (DefaultReadyWait when
	// zero); past it the run ends with what it saw.
	ReadyWait time.Duration
}

// Validate reports the first setting out of its bounds.
func (c Config) Validate() error {
	switch {
	case c.Concurrency < 1 || c.Concurrency > ConcurrencyMax:
		return fmt.Errorf("concurrency %d: want 1 to %d", c.Concurrency, ConcurrencyMax)
	case c.Duration <= 0 || c.Duration > DurationMax:
		return fmt.Errorf("duration %s: want more than 0 and at most %s", c.Duration, DurationMax)
	case c.Warmup < 0 || c.Warmup > WarmupMax:
		return fmt.Errorf("warmup %s: want 0 to %s", c.Warmup, WarmupMax)
	case c.Batch < 1 || c.Batch > BatchMax:
		return fmt.Errorf("batch %d: want 1 to %d (the API's maximum)", c.Batch, BatchMax)
	case c.Rate < 0 || c.Rate > RateMax:
		return fmt.Errorf("rate %g: want 0 (closed loop) to %d requests a second", c.Rate, RateMax)
	case c.ReadyWait < 0 || c.ReadyWait > ReadyWaitMax:
		return fmt.Errorf("ready wait %s: want 0 (the default, %s) to %s", c.ReadyWait, DefaultReadyWait, ReadyWaitMax)
	case c.Accounts < 2 || c.Accounts > AccountsMax:
		return fmt.Errorf("accounts %d: want 2 to %d (a transfer needs two distinct accounts)", c.Accounts, AccountsMax)
	case c.URL != "" && c.Token == "":
		return errors.New("a ledger at --url needs an admin token (--token or LEDGER_ADMIN_TOKEN)")
	case c.URL != "" && c.SyncAlways:
		return errors.New("--sync-always configures a self-started ledger; the one at --url runs as it was started")
	}
	return nil
}
