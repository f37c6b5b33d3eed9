package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/nats-ledger/ledger/audit"
)

// progressThrottle bounds how often a progress bar redraws.
const progressThrottle = 100 * time.Millisecond

type replayFlags struct {
	journal  journalFlags
	out      string
	from     uint64
	cont     bool
	install  bool
	progress bool
}

func parseReplay(args []string, stderr io.Writer) (replayFlags, error) {
	var f replayFlags
	fs := journalFlagSet("replay", stderr, &f.journal, false)
	fs.StringVar(&f.out, "out", "", "read model directory to build (default: <data-dir>/readmodel.new); never the live readmodel")
	fs.Uint64Var(&f.from, "from", 1, "first sequence to apply: 1 rebuilds from scratch (a bulk build, docs/adr/0028-read-model-rebuild.md); N continues --out, which must stand at N-1")
	fs.BoolVar(&f.cont, "continue", false, "continue --out from its own checkpoint (to catch up a finished replay before --install; a replay from scratch that was interrupted is refused: run it again)")
	fs.BoolVar(&f.install, "install", false, "with --data-dir of a stopped ledger: then put --out in place of readmodel (renames)")
	fs.BoolVar(&f.progress, "progress", true, "show a progress bar on stderr")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if f.from == 0 {
		return f, usagef("replay: --from: sequences start at 1")
	}
	return f, nil
}

// replayCmd runs `ledger replay`: it builds a read model from the journal
// in a separate file while the server (if any) keeps serving the old one,
// and installs it only on a stopped ledger (see docs/adr/0006-replay.md).
func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseReplay(args, stderr)
	if err != nil {
		return err
	}
	target, err := f.journal.target()
	if err != nil {
		return err
	}
	out := f.out
	if out == "" {
		if target.DataDir == "" {
			return errors.New("replay: --out is needed without --data-dir")
		}
		out = liveReadModel(target.DataDir) + ".new"
	}
	if target.DataDir != "" && samePath(out, liveReadModel(target.DataDir)) {
		return errors.New("replay: --out is the live read model; build another file and --install it")
	}
	j, err := audit.Open(ctx, target)
	if err != nil {
		return err
	}
	defer j.Close()
	if f.install && !j.Locked {
		return errors.New("replay --install: needs --data-dir of a stopped ledger (without --nats-url), so that nothing reads the read model meanwhile")
	}
	opts := audit.ReplayOptions{Out: out, From: f.from, Continue: f.cont}
	if f.progress {
		var finish func()
		opts.Progress, finish = progress(stderr, "replaying", journalLength(ctx, j))
		defer finish()
	}
	st, err := audit.Replay(ctx, j.Stream, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replayed %d events (%d applied from sequence %d) into %s in %s: %.0f events/s; checkpoint %d\n",
		st.Events, st.Applied, st.From, st.Out, st.Elapsed.Round(time.Millisecond), st.EventsPerSec(), st.LastSeq)
	if !f.install {
		if target.DataDir != "" {
			fmt.Fprintf(stdout, "to use it: stop the ledger, then run ledger replay --data-dir %s --continue --install\n", target.DataDir)
		}
		return nil
	}
	live := liveReadModel(target.DataDir)
	if err := audit.Install(ctx, out, live); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "installed %s as %s\n", out, live)
	return nil
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// journalLength returns the journal's last sequence when it is a stream
// (to size the audit's books and the progress bar), else 0.
func journalLength(ctx context.Context, j *audit.Journal) uint64 {
	if j.Stream == nil {
		return 0
	}
	last, err := j.Stream.LastSeq(ctx)
	if err != nil {
		return 0
	}
	return last
}

// progress draws a bar of total events (unknown when 0) on w. It returns
// the function that advances it and the one that finishes it.
func progress(w io.Writer, what string, total uint64) (advance func(int), finish func()) {
	length := int64(total)
	if total == 0 {
		length = -1
	}
	bar := progressbar.NewOptions64(length,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(progressThrottle),
		progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return func(n int) { _ = bar.Add(n) }, func() { _ = bar.Finish() }
}
