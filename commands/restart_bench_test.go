package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/infra/natstest"
	"github.com/nats-ledger/ledger/journalio"
)

// BenchmarkRestart10M measures the start-up target "a restart with 10
// million journal events is ready in ≤ 5 s" (docs/BENCHMARKS.md).
//
// Set-up, untimed: a real processor, with the default snapshot cadence, a
// real snapshot store and the posted-id archive in the data dir with the
// default hot set (1M ids), as a node runs it, decides real command messages (envelopes of 1,000
// transfers between restartDefaultAccounts accounts) until the journal
// holds the events asked for; the processor is then stopped and the NATS
// server shut down. Stopping the processor takes no snapshot of its own
// (Run abandons a snapshot still being written), so the restart finds
// exactly what the cadence left, as after a crash. The snapshots fall just
// past each millionth event, so the tail at a round number of events is
// close to the worst case, a whole SnapshotEvery.
//
// Timed, per iteration: on a freshly started server (its start-up is
// reported apart, as nats-start-s), the archive is opened and a new
// processor is built and run until Ready; ns/op and ready-s are that
// time, which includes the archive's open (archive-open-s) and its check
// against the journal (archive-check-s). ready-cpu-s is the process's
// CPU time (user and system) over the same span: on a shared machine,
// the figure that compares. A command submitted at the same
// instant reports first-outcome-s. The snapshot's fetch from the object
// store and the journal tail's replay are timed by wrapping the store and
// the journal; the snapshot's decode is timed apart, after the fact, on
// the same bytes. The journal is in the page cache, as after a process
// restart, not a reboot. The server's own start-up re-reads what the
// streams stored in their duplicate windows (the journal's is 100 ms, the
// commands stream's 2 minutes, and acknowledged commands are gone), so
// nats-start-s is that of a restart right after a burst of writes.
//
// The restarted processor is then checked: the sequence it resumes at, two
// transfers remembered from before and after the snapshot, and every
// account's balance (one transfer per account, whose reported balances are
// compared with the benchmark's own bookkeeping).
//
// It takes minutes, so it runs only when asked for by name (-bench with
// "Restart" in the pattern) or with -restart.events or
// LEDGER_RESTART_EVENTS; "-bench ." skips it. For example:
//
//	go test ./commands -run '^$' -bench Restart10M -benchtime 1x -timeout 60m
//	go test ./commands -run '^$' -bench Restart10M -benchtime 1x -restart.events 2000000
//
// -restart.dir keeps the data dir, and a later run with the same dir
// restarts what it holds without building it again (the model of the
// balances is kept beside it); delete the dir when done.
// -restart.cpuprofile writes a CPU profile of the first timed restart
// alone; -v shows the whole log, which go test otherwise cuts short.
func BenchmarkRestart10M(b *testing.B) {
	if !restartWanted() {
		b.Skip("takes minutes: run with -bench Restart10M, -restart.events or LEDGER_RESTART_EVENTS")
	}
	events, accounts := restartSize()
	dir, m, setup := restartSetUp(b, events, accounts)
	sizes := diskUsage(b, dir)
	b.Logf("data dir after set-up: %s", sizes)
	var srv *natstest.Server
	var l *ledger
	var arch *infra.IDArchive
	b.Cleanup(func() { closeArchive(b, &arch) }) // after the processor's stop, registered later

	var natsStart, ready, firstOutcome, fetch, decode, tailReplay, restore, archOpen, archCheck time.Duration
	var tail, snapBytes, hot uint64
	var cpu time.Duration // the process's user and system time from start to ready
	profile := startRestartProfile(b)
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		if i > 0 {
			l.stop()
			closeArchive(b, &arch)
			srv.Stop()
		}
		t := time.Now()
		srv = natstest.Start(b, dir)
		natsStart += time.Since(t)
		sub, err := infra.NewSubmitter(srv.NC, srv.JS, srv.Names, infra.GroupCommit{})
		if err != nil {
			b.Fatal(err)
		}
		log, logs := newLog()
		load0 := loadAverage()

		profile.resume()
		b.StartTimer()
		cpu0 := processCPU(b)
		start := time.Now()
		arch = openRestartArchive(b, dir)
		archOpen += time.Since(start)
		store, err := infra.EnsureSnapshotStore(context.Background(), srv.JS, srv.Names, 1)
		if err != nil {
			b.Fatal(err)
		}
		snapStore := &timedSnapshots{SnapshotStore: store, max: *restartSnapMaxFlag}
		journal := &timedJournal{Journal: infra.NewJournal(srv.JS, srv.Names)}
		l = restartLedger(b, srv, sub, journal, snapStore, arch, log)
		outcome := make(chan probeOutcome, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			rs, err := sub.Submit(ctx, []commands.Item{m.probe(m.probes)}, true)
			outcome <- probeOutcome{rs, err, time.Since(start)}
		}()
		for !l.proc.Ready() {
			select {
			case err := <-l.done:
				b.Fatalf("processor stopped during the restart: %v\n%s", err, logs)
			default:
			}
			time.Sleep(time.Millisecond)
		}
		took := time.Since(start)
		tookCPU := processCPU(b) - cpu0
		cpu += tookCPU
		b.StopTimer()
		profile.pause()
		ready += took

		got := <-outcome
		if got.err != nil {
			b.Fatalf("probe command: %v\n%s", got.err, logs)
		}
		firstOutcome += got.after
		b.Logf("restart %d: ready in %s (CPU %s), first outcome in %s; load average %s before, %s after",
			i+1, took.Round(time.Millisecond), tookCPU.Round(time.Millisecond), got.after.Round(time.Millisecond), load0, loadAverage())

		// Where it restarted from, and how long each part took.
		snapSeq, n, fetched := snapStore.used()
		fetch += fetched
		snapBytes += uint64(n)
		tail += m.seq - snapSeq
		check, replay := journal.took()
		archCheck += check
		tailReplay += replay
		hot += uint64(l.proc.HotIDs())
		if snapSeq == 0 {
			// Fewer events than the cadence: no snapshot, a full replay.
			b.Logf("restart %d: no snapshot, full replay", i+1)
			restore += logDuration(b, logs.String(), "processor state rebuilt")
		} else {
			restore += logDuration(b, logs.String(), "state restored from a snapshot")
			decode += decodeTime(b, store, snapSeq)
		}
		b.Logf("restart %d log:\n%s", i+1, logs)

		m.verify(b, l, got.rs, snapSeq)
		if *restartDirFlag != "" {
			m.save(b, dir)
		}
	}
	profile.pause()
	n := float64(b.N)
	b.ReportMetric(ready.Seconds()/n, "ready-s")
	b.ReportMetric(firstOutcome.Seconds()/n, "first-outcome-s")
	b.ReportMetric(float64(tail)/n, "tail-events")
	b.ReportMetric(restore.Seconds()/n, "restore-s")
	b.ReportMetric(fetch.Seconds()/n, "snapshot-fetch-s")
	b.ReportMetric(decode.Seconds()/n, "snapshot-decode-s")
	b.ReportMetric(float64(snapBytes)/n/1e6, "snapshot-MB")
	b.ReportMetric(tailReplay.Seconds()/n, "tail-replay-s")
	b.ReportMetric(natsStart.Seconds()/n, "nats-start-s")
	b.ReportMetric(cpu.Seconds()/n, "ready-cpu-s")
	b.ReportMetric(archOpen.Seconds()/n, "archive-open-s")
	b.ReportMetric(archCheck.Seconds()/n, "archive-check-s")
	b.ReportMetric(float64(hot)/n, "hot-ids")
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(setup.Seconds(), "setup-s")
	b.ReportMetric(float64(sizes[journalio.NamesFor("test").JournalStream])/1e9, "journal-GB")
}

// The benchmark's size: restartDefaultEvents events between
// restartDefaultAccounts accounts unless -restart.events,
// LEDGER_RESTART_EVENTS or -restart.accounts say otherwise.
const (
	restartDefaultEvents   = 10_000_000
	restartDefaultAccounts = 100_000
	// restartEnvelope is the transfers per command message.
	restartEnvelope = 1_000
	// restartAhead bounds the command messages published ahead of the
	// processor, which keeps its batches, and so the drift of the
	// snapshots past each million events, small.
	restartAhead = 16
	// restartCheckEnvelope bounds the items of one verification message,
	// whose reply, with every event, must stay under the server's
	// maximum message size.
	restartCheckEnvelope = 2_000
)

var (
	restartEventsFlag   = flag.Int("restart.events", 0, "journal events of BenchmarkRestart10M (default 10,000,000; also LEDGER_RESTART_EVENTS)")
	restartAccountsFlag = flag.Int("restart.accounts", 0, "accounts of BenchmarkRestart10M (default 100,000)")
	restartHotFlag      = flag.Int("restart.hot", 0, "posted ids in memory of BenchmarkRestart10M's processor (default: the processor's, 1,000,000)")
	restartSnapMaxFlag  = flag.Uint64("restart.snapshot-max", 0, "hide from BenchmarkRestart10M's timed restarts the snapshots after this sequence, as if the cadence had not taken them (0: none hidden)")
	restartCheckFlag    = flag.Int("restart.check-accounts", 0, "accounts whose balance BenchmarkRestart10M checks after each restart, evenly spread (default: every account); each check adds an event")
	restartDirFlag      = flag.String("restart.dir", "", "data dir of BenchmarkRestart10M, kept after the run: a dir it built before (restart-model.json) is restarted again without a set-up")
	restartProfileFlag  = flag.String("restart.cpuprofile", "", "write a CPU profile of BenchmarkRestart10M's timed restarts to this file")
)

// restartWanted reports whether BenchmarkRestart10M was asked for.
func restartWanted() bool {
	if *restartEventsFlag > 0 || os.Getenv("LEDGER_RESTART_EVENTS") != "" {
		return true
	}
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), "Restart")
}

func restartSize() (events, accounts int) {
	events = restartDefaultEvents
	if n, err := strconv.Atoi(os.Getenv("LEDGER_RESTART_EVENTS")); err == nil && n > 0 {
		events = n
	}
	if *restartEventsFlag > 0 {
		events = *restartEventsFlag
	}
	accounts = restartDefaultAccounts
	if *restartAccountsFlag > 0 {
		accounts = *restartAccountsFlag
	}
	// The asset, each account's opening and mint, then at least as many
	// transfers again.
	return events, max(2, min(accounts, (events-1)/4))
}

// restartLedger runs a processor with the default snapshot cadence and
// hot set on journal, snapshots and the posted-id archive arch, as a node
// runs it, fed by srv's command source; the caller's submitter is its API
// side.
func restartLedger(b *testing.B, srv *natstest.Server, sub *infra.Submitter, journal commands.Journal, snapshots commands.SnapshotStore, arch *infra.IDArchive, log *slog.Logger) *ledger {
	b.Helper()
	src := infra.NewCommandSource(srv.JS, srv.Names)
	proc := commands.New(journal, src, infra.NewNotifier(srv.NC), commands.Config{Logger: log, Snapshots: snapshots, Archive: arch, HotIDs: *restartHotFlag})
	ctx, cancel := context.WithCancel(context.Background())
	l := &ledger{srv: srv, src: src, sub: sub, proc: proc, cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- proc.Run(ctx) }()
	b.Cleanup(l.stop)
	return l
}

// restartModel is the benchmark's own bookkeeping of the ledger it
// builds: what the restarted processor must agree with.
type restartModel struct {
	accounts  int
	balance   []int64 // cents, by account number
	transfers int     // set-up transfers, numbered from 0
	seq       uint64  // the journal's last sequence
	probes    int     // restarts checked so far
}

const restartMint = 100_000_000_000 // cents minted to each account: 1,000,000,000.00

func newRestartModel(accounts int) *restartModel {
	return &restartModel{accounts: accounts, balance: make([]int64, accounts)}
}

func accountID(i int) string { return "a" + strconv.FormatInt(int64(i), 36) }

func money(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// transfer k of the set-up: small amounts between pseudo-random pairs of
// distinct accounts.
func (m *restartModel) transfer(k int) (from, to int, cents int64, item commands.Item) {
	from = k % m.accounts
	to = (from + 1 + (k/m.accounts+k*31)%(m.accounts-1)) % m.accounts
	cents = int64(1 + k%997)
	item = commands.Item{Transfer: &domain.Transfer{
		ID: "t" + strconv.FormatInt(int64(k), 36), From: accountID(from), To: accountID(to), Amount: money(cents),
	}}
	return from, to, cents, item
}

// transferSeq is the ledger sequence of set-up transfer k: after the
// asset, the accounts and their mints.
func (m *restartModel) transferSeq(k int) uint64 { return uint64(2*m.accounts+2) + uint64(k) }

// build submits the set-up's command messages to l, never more than
// restartAhead ahead of the processor, until the journal holds events
// events, and waits for the processor to have appended them all.
func (m *restartModel) build(b *testing.B, l *ledger, events int) {
	b.Helper()
	ctx := context.Background()
	var published uint64
	wait := func(until func() bool) {
		for !until() {
			select {
			case err := <-l.done:
				b.Fatalf("processor stopped during the set-up: %v", err)
			default:
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	send := func(items []commands.Item) {
		wait(func() bool { return published <= l.proc.Seq()+restartAhead*restartEnvelope })
		if _, err := l.sub.Submit(ctx, items, false); err != nil {
			b.Fatalf("submit at event %d: %v", published, err)
		}
		published += uint64(len(items))
		if testing.Verbose() && published/1_000_000 != (published-uint64(len(items)))/1_000_000 {
			fmt.Fprintf(os.Stderr, "restart set-up: %d events submitted, %d journaled\n", published, l.proc.Seq())
		}
	}
	send([]commands.Item{{Asset: &domain.Asset{Code: "USD", Scale: 2}}})
	for _, mint := range []bool{false, true} {
		for i := 0; i < m.accounts; i += restartEnvelope {
			items := make([]commands.Item, 0, restartEnvelope)
			for a := i; a < min(i+restartEnvelope, m.accounts); a++ {
				if mint {
					items = append(items, commands.Item{Transfer: &domain.Transfer{ID: "m" + accountID(a), From: domain.World, To: accountID(a), Amount: money(restartMint)}})
					m.balance[a] = restartMint
				} else {
					items = append(items, commands.Item{Account: &domain.Account{ID: accountID(a), Asset: "USD"}})
				}
			}
			send(items)
		}
	}
	for published < uint64(events) {
		items := make([]commands.Item, 0, restartEnvelope)
		for len(items) < restartEnvelope && published+uint64(len(items)) < uint64(events) {
			from, to, cents, item := m.transfer(m.transfers)
			m.balance[from] -= cents
			m.balance[to] += cents
			m.transfers++
			items = append(items, item)
		}
		send(items)
	}
	wait(func() bool { return l.proc.Seq() >= published })
	if l.proc.Seq() != published {
		b.Fatalf("the processor journaled %d events, want %d", l.proc.Seq(), published)
	}
	m.seq = published
}

// probe is the command submitted as the restart begins.
func (m *restartModel) probe(i int) commands.Item {
	return commands.Item{Transfer: &domain.Transfer{ID: "p" + strconv.Itoa(i), From: accountID(0), To: accountID(1), Amount: "0.01"}}
}

// posted checks that r posted from → to at the next sequence with the
// balances the model expects, and books it.
func (m *restartModel) posted(b *testing.B, what string, r commands.Result, from, to int, cents int64) {
	b.Helper()
	if r.Outcome != commands.OutcomePosted || r.Event == nil || r.Event.Transfer == nil {
		b.Fatalf("%s: %+v, want posted", what, r)
	}
	m.seq++
	m.balance[from] -= cents
	m.balance[to] += cents
	e := r.Event.Transfer.Entries
	if r.Seq != m.seq || e[0].Account != accountID(from) || e[0].Balance != money(m.balance[from]) ||
		e[1].Account != accountID(to) || e[1].Balance != money(m.balance[to]) {
		b.Fatalf("%s: posted at %d with entries %+v; want sequence %d, %s at %s and %s at %s",
			what, r.Seq, e, m.seq, accountID(from), money(m.balance[from]), accountID(to), money(m.balance[to]))
	}
}

// verify checks the restarted processor against the model: the probe
// posted right after the journal's last event with the expected balances,
// a set-up transfer from before the snapshot and one from its tail are
// remembered, and one more transfer from every account reports the
// balance the model holds.
func (m *restartModel) verify(b *testing.B, l *ledger, probe []commands.Result, snapSeq uint64) {
	b.Helper()
	if len(probe) != 1 {
		b.Fatalf("probe: %d results", len(probe))
	}
	m.posted(b, "probe after the restart", probe[0], 0, 1, 1)
	m.probes++
	submit := func(items []commands.Item) []commands.Result {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		rs, err := l.sub.Submit(ctx, items, true)
		if err != nil || len(rs) != len(items) {
			b.Fatalf("check after the restart: %d results for %d items, %v", len(rs), len(items), err)
		}
		return rs
	}
	if m.transfers > 0 {
		first, last := 0, m.transfers-1
		if m.transferSeq(first) > snapSeq || m.transferSeq(last) <= snapSeq {
			b.Logf("note: transfers %d and %d are not on both sides of the snapshot at %d", first, last, snapSeq)
		}
		var items []commands.Item
		for _, k := range []int{first, last} {
			_, _, _, item := m.transfer(k)
			items = append(items, item)
		}
		for i, r := range submit(items) {
			k := []int{first, last}[i]
			if r.Outcome != commands.OutcomeReplayed || r.Seq != m.transferSeq(k) {
				b.Fatalf("set-up transfer %d submitted again: %+v, want replayed at %d", k, r, m.transferSeq(k))
			}
		}
		// A message of replays alone is journaled as CommandSkipped.
		if seq := l.proc.Seq(); seq == m.seq+1 {
			m.seq = seq
		} else if seq != m.seq {
			b.Fatalf("after two replays the journal ends at %d, want %d or one more", seq, m.seq)
		}
	}
	stride := 1
	if n := *restartCheckFlag; n > 0 && n < m.accounts {
		stride = m.accounts / n
	}
	for i := 0; i < m.accounts; i += restartCheckEnvelope * stride {
		var items []commands.Item
		for a := i; a < min(i+restartCheckEnvelope*stride, m.accounts); a += stride {
			items = append(items, commands.Item{Transfer: &domain.Transfer{
				ID: fmt.Sprintf("c%d-%d", m.probes, a), From: accountID(a), To: accountID((a + 1) % m.accounts), Amount: "0.01",
			}})
		}
		for j, r := range submit(items) {
			a := i + j*stride
			m.posted(b, "balance check of "+accountID(a), r, a, (a+1)%m.accounts, 1)
		}
	}
}

type probeOutcome struct {
	rs    []commands.Result
	err   error
	after time.Duration
}

// timedSnapshots times the snapshot loads of a start-up.
type timedSnapshots struct {
	commands.SnapshotStore
	max   uint64 // the newest sequence listed; 0: all are
	mu    sync.Mutex
	seq   uint64
	bytes int
	took  time.Duration
}

func (s *timedSnapshots) List(ctx context.Context) ([]commands.SnapshotInfo, error) {
	infos, err := s.SnapshotStore.List(ctx)
	if s.max == 0 {
		return infos, err
	}
	var kept []commands.SnapshotInfo
	for _, info := range infos {
		if info.Seq <= s.max {
			kept = append(kept, info)
		}
	}
	return kept, err
}

func (s *timedSnapshots) Load(ctx context.Context, seq uint64, maxBytes int64) ([]byte, error) {
	start := time.Now()
	data, err := s.SnapshotStore.Load(ctx, seq, maxBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.took += time.Since(start)
	if err == nil {
		s.seq, s.bytes = seq, len(data)
	}
	return data, err
}

// used returns the last snapshot loaded, its size and the time spent
// loading snapshots.
func (s *timedSnapshots) used() (seq uint64, bytes int, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq, s.bytes, s.took
}

// timedJournal times the journal reads of a start-up: the first read,
// when a later one follows, is the archive's check (one record at its
// mark); the others are the replay.
type timedJournal struct {
	commands.Journal
	mu    sync.Mutex
	reads []time.Duration
}

func (j *timedJournal) Replay(ctx context.Context, fn func(domain.Record) error) (uint64, error) {
	defer j.time(time.Now())
	return j.Journal.Replay(ctx, fn)
}

func (j *timedJournal) ReplayFrom(ctx context.Context, from uint64, fn func(domain.Record) error) (uint64, error) {
	defer j.time(time.Now())
	return j.Journal.ReplayFrom(ctx, from, fn)
}

func (j *timedJournal) time(start time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reads = append(j.reads, time.Since(start))
}

// took returns the time of the archive's check and of the replay.
func (j *timedJournal) took() (check, replay time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	reads := j.reads
	if len(reads) > 1 {
		check, reads = reads[0], reads[1:]
	}
	for _, d := range reads {
		replay += d
	}
	return check, replay
}

// decodeTime loads snapshot seq again and times its decoding alone.
func decodeTime(b *testing.B, store commands.SnapshotStore, seq uint64) time.Duration {
	b.Helper()
	data, err := store.Load(context.Background(), seq, 64<<30)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	snap, err := commands.ReadSnapshot(data)
	took := time.Since(start)
	if err != nil || snap.Seq != seq {
		b.Fatalf("snapshot %d: %v", seq, err)
	}
	return took
}

var elapsedAttr = regexp.MustCompile(`elapsed=(\S+)`)

// logDuration returns the elapsed= of the log line with msg.
func logDuration(b *testing.B, logs, msg string) time.Duration {
	b.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `msg="`+msg+`"`) {
			continue
		}
		if m := elapsedAttr.FindStringSubmatch(line); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				return d
			}
		}
	}
	b.Fatalf("no %q with elapsed= in the log:\n%s", msg, logs)
	return 0
}

func grepLines(s, substr string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func snapshotList(infos []commands.SnapshotInfo) string {
	var out []string
	for _, info := range infos {
		out = append(out, fmt.Sprintf("%d (%.0f MB)", info.Seq, float64(info.Size)/1e6))
	}
	return strings.Join(out, ", ")
}

// streamSizes are the bytes on disk of each stream of a data dir.
type streamSizes map[string]int64

func (s streamSizes) String() string {
	var out []string
	for name, n := range s {
		out = append(out, fmt.Sprintf("%s %.2f GB", name, float64(n)/1e9))
	}
	return strings.Join(out, ", ")
}

// diskUsage sums the files under dir by the stream they belong to.
func diskUsage(b *testing.B, dir string) streamSizes {
	b.Helper()
	sizes := streamSizes{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := "other"
		parts := strings.Split(filepath.ToSlash(path), "/")
		for i, p := range parts[:len(parts)-1] {
			if p == "streams" {
				name = parts[i+1]
				break
			}
		}
		sizes[name] += info.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return sizes
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// restartProfile profiles the first timed restart when
// -restart.cpuprofile names a file.
type restartProfile struct {
	b    *testing.B
	f    *os.File
	done bool
}

func startRestartProfile(b *testing.B) *restartProfile { return &restartProfile{b: b} }

func (p *restartProfile) resume() {
	if *restartProfileFlag == "" || p.done || p.f != nil {
		return
	}
	f, err := os.Create(*restartProfileFlag)
	if err != nil {
		p.b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		p.b.Fatalf("restart profile (not with -cpuprofile): %v", err)
	}
	p.f = f
}

func (p *restartProfile) pause() {
	if p.f == nil {
		return
	}
	pprof.StopCPUProfile()
	if err := p.f.Close(); err != nil {
		p.b.Error(err)
	}
	p.f, p.done = nil, true
}

// restartSetUp builds the benchmark's journal with a real processor, its
// snapshots and its posted-id archive, then stops it and the server. With
// -restart.dir naming a dir built before, it loads that dir's model
// instead and builds nothing (setup is then zero).
func restartSetUp(b *testing.B, events, accounts int) (dir string, m *restartModel, setup time.Duration) {
	b.Helper()
	dir = *restartDirFlag
	if dir == "" {
		dir = b.TempDir()
	} else if m, ok := loadRestartModel(b, dir); ok {
		b.Logf("set-up: none, restarting %s (%d events, %d accounts, %d transfers)", dir, m.seq, m.accounts, m.transfers)
		return dir, m, 0
	}
	srv := natstest.Start(b, dir)
	m = newRestartModel(accounts)
	setupStart := time.Now()
	log, logs := newLog()
	store, err := infra.EnsureSnapshotStore(context.Background(), srv.JS, srv.Names, 1)
	if err != nil {
		b.Fatal(err)
	}
	sub, err := infra.NewSubmitter(srv.NC, srv.JS, srv.Names, infra.GroupCommit{})
	if err != nil {
		b.Fatal(err)
	}
	arch := openRestartArchive(b, dir)
	b.Cleanup(func() { closeArchive(b, &arch) }) // after the processor's stop, registered later
	l := restartLedger(b, srv, sub, infra.NewJournal(srv.JS, srv.Names), store, arch, log)
	m.build(b, l, events)
	l.stop()
	closeArchive(b, &arch)
	setup = time.Since(setupStart)
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
		b.Fatalf("the processor complained while building the journal:\n%s", logs)
	}
	snaps, err := store.List(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("set-up: %d events (%d accounts, %d transfers) in %s, %.0f events/s; snapshots kept: %s",
		m.seq, m.accounts, m.transfers, setup.Round(time.Second), float64(m.seq)/setup.Seconds(), snapshotList(snaps))
	b.Logf("set-up snapshots taken:\n%s", grepLines(logs.String(), "snapshot saved"))
	srv.Stop()
	if *restartDirFlag != "" {
		m.save(b, dir)
	}
	return dir, m, setup
}

// openRestartArchive opens the posted-id archive of data dir dir, where a node
// keeps it.
func openRestartArchive(b *testing.B, dir string) *infra.IDArchive {
	b.Helper()
	a, err := infra.OpenIDArchive(filepath.Join(dir, infra.IDArchiveDir))
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// closeArchive closes *a, if open, once the processor using it stopped.
func closeArchive(b *testing.B, a **infra.IDArchive) {
	b.Helper()
	if *a == nil {
		return
	}
	err := (*a).Close()
	*a = nil
	if err != nil {
		b.Fatal(err)
	}
}

// restartModelFile holds the model of a kept -restart.dir.
const restartModelFile = "restart-model.json"

type savedRestartModel struct {
	Accounts, Transfers, Probes int
	Seq                         uint64
	Balance                     []int64
}

func (m *restartModel) save(b *testing.B, dir string) {
	b.Helper()
	data, err := json.Marshal(savedRestartModel{m.accounts, m.transfers, m.probes, m.seq, m.balance})
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, restartModelFile), data, 0o644)
	}
	if err != nil {
		b.Fatal(err)
	}
}

func loadRestartModel(b *testing.B, dir string) (*restartModel, bool) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(dir, restartModelFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	var s savedRestartModel
	if err == nil {
		err = json.Unmarshal(data, &s)
	}
	if err != nil {
		b.Fatal(err)
	}
	return &restartModel{accounts: s.Accounts, balance: s.Balance, transfers: s.Transfers, seq: s.Seq, probes: s.Probes}, true
}

// processCPU is the user and system CPU time of the process so far: the
// embedded server's, the processor's and the archive's compactions alike.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
