package audit

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Check names one property the audit verifies. Names are stable: they
// appear in the JSON report that tools branch on.
type Check string

// The checks, in the order the report lists them.
const (
	CheckSequence   Check = "sequence"        // gapless from 1 (or the export's first line), in order
	CheckHashChain  Check = "hash_chain"      // each line's hash covers its bytes and chains to the previous line
	CheckCanonical  Check = "canonical"       // each line is its event's canonical encoding, byte for byte
	CheckSchema     Check = "schema"          // each event decodes strictly and has its type's payload, valid
	CheckConsistent Check = "consistency"     // events refer to defined assets and accounts; entries match their transfer
	CheckBalance    Check = "balance_after"   // the entries' balances equal the recomputed balances
	CheckZeroSum    Check = "zero_sum"        // per asset, the balances (the issuer's included) sum to zero after every event
	CheckLimit      Check = "limit"           // no account below its lower limit, none moved against its status (frozen, closed)
	CheckUnique     Check = "unique_transfer" // no transfer id posted twice
	CheckCommands   Check = "commands"        // every command message up to the last decided one is answered by an event, in order; the commands stream holds the rest
	CheckHead       Check = "expected_head"   // the journal ends at the head the auditor expects
	CheckCheckpoint Check = "checkpoint"      // the journal passes through every checkpoint given, each signed by the ledger
	CheckReadModel  Check = "read_model"      // the read model equals the recomputed state
)

// Checks lists every check in report order.
var Checks = []Check{CheckSequence, CheckHashChain, CheckCanonical, CheckSchema, CheckConsistent, CheckBalance,
	CheckZeroSum, CheckLimit, CheckUnique, CheckCommands, CheckHead, CheckCheckpoint, CheckReadModel}

// stateChecks are the checks that need the journal from its first event.
var stateChecks = []Check{CheckConsistent, CheckBalance, CheckZeroSum, CheckLimit, CheckUnique, CheckReadModel}

// Status is a check's outcome.
type Status string

// Statuses of a check.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// Finding is one violation. Seq is the ledger sequence it is about (for a
// missing event, the missing sequence); Account and Asset name the
// account when there is one.
type Finding struct {
	Check   Check  `json:"check"`
	Seq     uint64 `json:"seq"`
	Account string `json:"account,omitempty"`
	Asset   string `json:"asset,omitempty"`
	Detail  string `json:"detail"`
}

func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at sequence %d", f.Check, f.Seq)
	if f.Account != "" {
		fmt.Fprintf(&b, ", account %s", f.Account)
		if f.Asset != "" {
			fmt.Fprintf(&b, " (%s)", f.Asset)
		}
	}
	return b.String() + ": " + f.Detail
}

// CheckResult is one check's outcome: Failures counts every violation,
// including those beyond the findings the report keeps.
type CheckResult struct {
	Check    Check  `json:"check"`
	Status   Status `json:"status"`
	Failures int    `json:"failures"`
	Note     string `json:"note,omitempty"`
}

// ReadModelInfo says which read model was compared and at which point.
type ReadModelInfo struct {
	Path       string `json:"path"`
	Checkpoint uint64 `json:"checkpoint_seq"`
	Accounts   int    `json:"accounts"`
	Postings   int    `json:"postings"`
}

// CommandsInfo is where the commands stream stood when the audit ended:
// the messages it holds are accepted and not yet decided.
type CommandsInfo struct {
	Stream    string `json:"stream"`
	FirstSeq  uint64 `json:"first_seq"`
	LastSeq   uint64 `json:"last_seq"`
	Undecided uint64 `json:"undecided"`
}

// Report is the outcome of an audit. OK is true when every check that ran
// holds.
type Report struct {
	Source        string `json:"source"`
	OK            bool   `json:"ok"`
	Partial       bool   `json:"partial"` // a range not starting at sequence 1: chain and schema only
	FirstSeq      uint64 `json:"first_seq"`
	LastSeq       uint64 `json:"last_seq"`
	Events        uint64 `json:"events"`
	FirstPrevHash string `json:"first_prev_hash"` // the chain's anchor: zeros for a journal from 1
	LastHash      string `json:"last_hash"`       // the head: record it to detect later rewrites
	Assets        int    `json:"assets"`
	Accounts      int    `json:"accounts"`
	Postings      uint64 `json:"postings"` // conversions included
	Rejections    uint64 `json:"rejections"`
	// LastCommand is the last command message the journal answers;
	// Commands, for a journal read from its stream, where the commands
	// stream stands.
	LastCommand  uint64         `json:"last_command"`
	Commands     *CommandsInfo  `json:"commands_stream,omitempty"`
	Checks       []CheckResult  `json:"checks"`
	Findings     []Finding      `json:"findings"` // the first MaxFindings, in journal order
	ReadModel    *ReadModelInfo `json:"read_model,omitempty"`
	ElapsedSecs  float64        `json:"elapsed_seconds"`
	EventsPerSec float64        `json:"events_per_sec"`
}

// Failures returns the number of violations found.
func (r *Report) Failures() int {
	n := 0
	for _, c := range r.Checks {
		n += c.Failures
	}
	return n
}

// First returns the first finding of check c, and false if there is none.
func (r *Report) First(c Check) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == c {
			return f, true
		}
	}
	return Finding{}, false
}

// WriteText writes the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	verdict := "PASSED"
	if !r.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "audit of %s: %s\n", r.Source, verdict)
	if r.Events == 0 {
		b.WriteString("  the journal is empty\n")
	} else {
		fmt.Fprintf(&b, "  events %d to %d: %d events; postings %d, rejections %d; assets %d, accounts %d\n",
			r.FirstSeq, r.LastSeq, r.Events, r.Postings, r.Rejections, r.Assets, r.Accounts)
		fmt.Fprintf(&b, "  chain anchor (prev_hash of %d): %s\n", r.FirstSeq, r.FirstPrevHash)
		fmt.Fprintf(&b, "  head (hash of %d):              %s\n", r.LastSeq, r.LastHash)
	}
	if r.LastCommand > 0 {
		fmt.Fprintf(&b, "  commands decided up to %d", r.LastCommand)
		if c := r.Commands; c != nil {
			fmt.Fprintf(&b, "; %s holds %d undecided", c.Stream, c.Undecided)
		}
		b.WriteString("\n")
	}
	if r.ReadModel != nil {
		fmt.Fprintf(&b, "  read model %s at sequence %d (%d accounts, %d postings compared)\n",
			r.ReadModel.Path, r.ReadModel.Checkpoint, r.ReadModel.Accounts, r.ReadModel.Postings)
	}
	for _, c := range r.Checks {
		line := fmt.Sprintf("  %-16s %s", c.Check, c.Status)
		if c.Failures > 0 {
			line += fmt.Sprintf(" (%d)", c.Failures)
		}
		if c.Note != "" {
			line += ": " + c.Note
		}
		b.WriteString(line + "\n")
	}
	if len(r.Findings) > 0 {
		b.WriteString("findings:\n")
		for _, f := range r.Findings {
			b.WriteString("  " + f.String() + "\n")
		}
		if n := r.Failures(); n > len(r.Findings) {
			fmt.Fprintf(&b, "  ... and %d more\n", n-len(r.Findings))
		}
	}
	fmt.Fprintf(&b, "  %d events in %s (%.0f events/s)\n", r.Events,
		time.Duration(r.ElapsedSecs*float64(time.Second)).Round(time.Microsecond), r.EventsPerSec)
	_, err := io.WriteString(w, b.String())
	return err
}
