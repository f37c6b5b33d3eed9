package domain_test

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// The reference model below re-states the domain's rules from the design
// and the doc comments, with shopspring/decimal for arithmetic and regular
// expressions for syntax, so that it shares no code with the package.

var (
	literalRE   = regexp.MustCompile(`^(0|[1-9][0-9]*)(?:\.([0-9]+))?$`)
	idRE        = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	assetCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,15}$`)
)

const maxDigits = 38

// literalOK is the scale-independent literal check.
func literalOK(s string) bool {
	m := literalRE.FindStringSubmatch(s)
	return m != nil && len(m[1])+len(m[2]) <= maxDigits
}

// parseAt reads a literal at an asset's scale: no rounding, and at most 38
// digits of minor units.
func parseAt(s string, scale int) (decimal.Decimal, bool) {
	m := literalRE.FindStringSubmatch(s)
	if m == nil || len(m[2]) > scale || len(m[1])+scale > maxDigits {
		return decimal.Decimal{}, false
	}
	return decimal.RequireFromString(s), true
}

type refAsset struct {
	scale int
	world decimal.Decimal
}

type refAccount struct {
	asset     string
	unlimited bool
	limit     decimal.Decimal
	balance   decimal.Decimal
	key       string // the normalised definition, to tell Existed from a conflict
}

type refPosted struct {
	seq  uint64
	body string
	cmd  domain.Transfer
}

type refModel struct {
	seq      uint64
	assets   map[string]*refAsset
	accounts map[string]*refAccount
	posted   map[string]refPosted
}

func newRefModel() *refModel {
	return &refModel{assets: map[string]*refAsset{}, accounts: map[string]*refAccount{}, posted: map[string]refPosted{}}
}

// expectation is what the model predicts for one command.
type expectation struct {
	outcome   domain.Outcome
	code      domain.Code
	journaled bool
	replayOf  uint64
	detail    string // checked when set
	commit    func(seq uint64)
}

func (e expectation) hasEvent() bool {
	return e.outcome == domain.Created || e.outcome == domain.Posted || e.journaled
}

func rejected(code domain.Code, journaled bool) expectation {
	return expectation{outcome: domain.Rejected, code: code, journaled: journaled}
}

func textOK(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func metadataOK(m map[string]string) bool {
	if len(m) > 32 {
		return false
	}
	for k, v := range m {
		if k == "" || !textOK(k, 64) || !textOK(v, 512) {
			return false
		}
	}
	return true
}

func metadataKey(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%q=%q;", k, m[k])
	}
	return b.String()
}

func (m *refModel) predict(c domain.Command) expectation {
	switch {
	case c.Asset != nil:
		return m.predictAsset(*c.Asset)
	case c.Account != nil:
		return m.predictAccount(*c.Account)
	case c.Transfer != nil:
		return m.predictTransfer(*c.Transfer)
	}
	return rejected(domain.CodeValidationFailed, false)
}

func (m *refModel) predictAsset(a domain.Asset) expectation {
	if !assetCodeRE.MatchString(a.Code) || a.Scale < 0 || a.Scale > 18 {
		return rejected(domain.CodeValidationFailed, false)
	}
	if have, ok := m.assets[a.Code]; ok {
		if have.scale == a.Scale {
			return expectation{outcome: domain.Existed}
		}
		return rejected(domain.CodeAssetConflict, false)
	}
	return expectation{outcome: domain.Created, commit: func(uint64) {
		m.assets[a.Code] = &refAsset{scale: a.Scale, world: decimal.Zero}
	}}
}

func (m *refModel) predictAccount(a domain.Account) expectation {
	if !idRE.MatchString(a.ID) || a.ID == domain.World || !assetCodeRE.MatchString(a.Asset) ||
		(a.OverdraftLimit != "" && a.OverdraftLimit != domain.Unlimited && !literalOK(a.OverdraftLimit)) ||
		!textOK(a.Owner, 128) || !metadataOK(a.Metadata) {
		return rejected(domain.CodeValidationFailed, false)
	}
	asset, ok := m.assets[a.Asset]
	if !ok {
		return rejected(domain.CodeAssetNotFound, false)
	}
	acc := &refAccount{asset: a.Asset, balance: decimal.Zero}
	limitKey := domain.Unlimited
	switch a.OverdraftLimit {
	case domain.Unlimited:
		acc.unlimited = true
	case "":
		limitKey = decimal.Zero.StringFixed(int32(asset.scale))
	default:
		v, ok := parseAt(a.OverdraftLimit, asset.scale)
		if !ok {
			return rejected(domain.CodeValidationFailed, false)
		}
		acc.limit = v
		limitKey = v.StringFixed(int32(asset.scale))
	}
	acc.key = fmt.Sprintf("%s|%s|%q|%s", a.Asset, limitKey, a.Owner, metadataKey(a.Metadata))
	if have, ok := m.accounts[a.ID]; ok {
		if have.key == acc.key {
			return expectation{outcome: domain.Existed}
		}
		return rejected(domain.CodeAccountConflict, false)
	}
	return expectation{outcome: domain.Created, commit: func(uint64) { m.accounts[a.ID] = acc }}
}

func (m *refModel) predictTransfer(t domain.Transfer) expectation {
	// Checks that need no state: never journaled.
	switch {
	case !idRE.MatchString(t.ID) || !idRE.MatchString(t.From) || !idRE.MatchString(t.To),
		t.Asset != "" && !assetCodeRE.MatchString(t.Asset),
		!textOK(t.Reference, 512), !metadataOK(t.Metadata):
		return rejected(domain.CodeValidationFailed, false)
	case !literalOK(t.Amount) || decimal.RequireFromString(t.Amount).IsZero():
		return rejected(domain.CodeInvalidAmount, false)
	case t.From == t.To:
		return rejected(domain.CodeSameAccount, false)
	}

	// Resolution against the state; its failures are journaled unless the
	// id was posted before.
	var resolveErr domain.Code
	var amount decimal.Decimal
	var from, to *refAccount
	var convert bool // accounts of different assets: a conversion, and this model sets no rates
	asset := t.Asset
	func() {
		if t.Asset != "" && m.assets[t.Asset] == nil {
			resolveErr = domain.CodeAssetNotFound
			return
		}
		code := ""
		for _, side := range []struct {
			id  string
			acc **refAccount
		}{{t.From, &from}, {t.To, &to}} {
			if side.id == domain.World {
				continue
			}
			acc, ok := m.accounts[side.id]
			if !ok {
				resolveErr = domain.CodeAccountNotFound
				return
			}
			if code != "" && acc.asset != code {
				convert = true
			}
			if code == "" {
				code = acc.asset
			}
			*side.acc = acc
		}
		if code != "" && t.Asset != "" && code != t.Asset {
			resolveErr = domain.CodeAssetMismatch
			return
		}
		if code != "" {
			asset = code
		}
		var ok bool
		if amount, ok = parseAt(t.Amount, m.assets[asset].scale); !ok {
			resolveErr = domain.CodeInvalidAmount
		}
	}()
	var body string
	if resolveErr == "" {
		scale := int32(m.assets[asset].scale)
		body = fmt.Sprintf("%s|%s|%s|%s|%q|%s", t.From, t.To, asset, amount.StringFixed(scale), t.Reference, metadataKey(t.Metadata))
	}
	if prev, ok := m.posted[t.ID]; ok {
		if resolveErr == "" && body == prev.body {
			return expectation{outcome: domain.Replayed, replayOf: prev.seq}
		}
		return rejected(domain.CodeIdempotencyConflict, false)
	}
	if resolveErr != "" {
		return rejected(resolveErr, true)
	}
	if convert {
		return rejected(domain.CodeRateNotFound, true)
	}
	ra := m.assets[asset]
	scale := int32(ra.scale)
	if from != nil && !from.unlimited && from.balance.Sub(amount).LessThan(from.limit.Neg()) {
		e := rejected(domain.CodeInsufficientFunds, true)
		e.detail = fmt.Sprintf("insufficient balance: balance was %s %s, at least %s %s is required",
			from.balance.StringFixed(scale), asset, amount.Sub(from.limit).StringFixed(scale), asset)
		return e
	}
	return expectation{outcome: domain.Posted, commit: func(seq uint64) {
		if from != nil {
			from.balance = from.balance.Sub(amount)
		} else {
			ra.world = ra.world.Sub(amount)
		}
		if to != nil {
			to.balance = to.balance.Add(amount)
		} else {
			ra.world = ra.world.Add(amount)
		}
		m.posted[t.ID] = refPosted{seq: seq, body: body, cmd: t}
	}}
}

// observer tracks what the journal itself says, from events alone, to
// check the invariants without trusting either the State or the model.
type observer struct {
	assetOf  map[string]string // account -> asset
	scale    map[string]int
	floor    map[string]*decimal.Decimal // nil: unlimited
	balance  map[string]decimal.Decimal  // accounts, and "world/ASSET"
	posted   map[string]uint64
	lastSeq  uint64
	maxCmd   uint64
	journal  []byte
	lastHash domain.Hash
}

func newObserver() *observer {
	return &observer{assetOf: map[string]string{}, scale: map[string]int{}, floor: map[string]*decimal.Decimal{},
		balance: map[string]decimal.Decimal{}, posted: map[string]uint64{}}
}

func (o *observer) key(account, asset string) string {
	if account == domain.World {
		return "world/" + asset
	}
	return account
}

func (o *observer) observe(ev *domain.Event) error {
	if ev.Seq != o.lastSeq+1 {
		return fmt.Errorf("sequence %d follows %d", ev.Seq, o.lastSeq)
	}
	o.lastSeq = ev.Seq
	o.maxCmd = max(o.maxCmd, ev.Command.Seq)
	switch {
	case ev.Asset != nil:
		o.scale[ev.Asset.Code] = ev.Asset.Scale
	case ev.Account != nil:
		a := ev.Account
		o.assetOf[a.ID] = a.Asset
		if a.OverdraftLimit == domain.Unlimited {
			o.floor[a.ID] = nil
		} else {
			v, err := decimal.NewFromString(a.OverdraftLimit)
			if err != nil {
				return fmt.Errorf("recorded limit %q: %v", a.OverdraftLimit, err)
			}
			f := v.Neg()
			o.floor[a.ID] = &f
		}
	case ev.Transfer != nil:
		p := ev.Transfer
		if prev, ok := o.posted[p.ID]; ok {
			return fmt.Errorf("transfer %s posted again at %d (first at %d)", p.ID, ev.Seq, prev)
		}
		o.posted[p.ID] = ev.Seq
		amount, err := decimal.NewFromString(p.Amount)
		if err != nil || !amount.IsPositive() {
			return fmt.Errorf("posted amount %q", p.Amount)
		}
		scale := int32(o.scale[p.Asset])
		for i, e := range p.Entries {
			k := o.key(e.Account, p.Asset)
			want := o.balance[k].Sub(amount)
			if i == 1 {
				want = o.balance[k].Add(amount)
			}
			if e.Balance != want.StringFixed(scale) {
				return fmt.Errorf("entry %d of %s: balance %s, want %s", i, p.ID, e.Balance, want.StringFixed(scale))
			}
			if e.Amount != amount.StringFixed(scale) {
				return fmt.Errorf("entry %d of %s: amount %s not at scale %d", i, p.ID, e.Amount, scale)
			}
			o.balance[k] = want
		}
	}
	return nil
}

func (o *observer) checkInvariants() error {
	sums := map[string]decimal.Decimal{}
	for k, v := range o.balance {
		if asset, ok := strings.CutPrefix(k, "world/"); ok {
			sums[asset] = sums[asset].Add(v)
			continue
		}
		sums[o.assetOf[k]] = sums[o.assetOf[k]].Add(v)
		if f := o.floor[k]; f != nil && v.LessThan(*f) {
			return fmt.Errorf("account %s at %s, below its floor %s", k, v, f)
		}
	}
	for asset, s := range sums {
		if !s.IsZero() {
			return fmt.Errorf("asset %s sums to %s", asset, s)
		}
	}
	return nil
}

// gen produces random commands biased towards the interesting cases:
// edges of limits, replays and reused ids.
type gen struct {
	r      *rand.Rand
	m      *refModel
	nextID int
	usedID []string
}

var propAssets = []domain.Asset{{Code: "USD", Scale: 2}, {Code: "BTC", Scale: 8}, {Code: "JPY", Scale: 0}, {Code: "ETH", Scale: 18}}

func (g *gen) pick(n int) int { return g.r.IntN(n) }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) accountID() string {
	switch {
	case g.chance(0.2):
		return domain.World
	case g.chance(0.03):
		return "ghost"
	case g.chance(0.01):
		return "bad id"
	}
	return fmt.Sprintf("a%d", g.pick(12))
}

// peer returns an account of the same asset as id, or the issuer, so that
// most transfers get past the asset checks to the interesting ones.
func (g *gen) peer(id string) string {
	var asset string
	if acc, ok := g.m.accounts[id]; ok {
		asset = acc.asset
	} else if len(g.m.accounts) > 0 {
		ids := slices.Sorted(maps.Keys(g.m.accounts))
		asset = g.m.accounts[ids[g.pick(len(ids))]].asset
	}
	var same []string
	for _, other := range slices.Sorted(maps.Keys(g.m.accounts)) {
		if other != id && g.m.accounts[other].asset == asset {
			same = append(same, other)
		}
	}
	if len(same) == 0 || id != domain.World && g.chance(0.2) {
		return domain.World
	}
	return same[g.pick(len(same))]
}

// amountLiteral returns a positive literal at scale, spelt with a random
// number of trailing zeros.
func (g *gen) amountLiteral(v decimal.Decimal, scale int) string {
	s := v.StringFixed(int32(scale))
	if strings.Contains(s, ".") {
		for g.chance(0.5) && strings.HasSuffix(s, "0") {
			s = strings.TrimSuffix(s, "0")
		}
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

func (g *gen) randomAmount(scale int) decimal.Decimal {
	// Log-uniform minor units, at most 10^24: thousands of steps cannot
	// approach the 128-bit bound, which has its own test.
	digits := 1 + g.pick(24)
	var b strings.Builder
	b.WriteByte(byte('1' + g.pick(9)))
	for i := 1; i < digits; i++ {
		b.WriteByte(byte('0' + g.pick(10)))
	}
	return decimal.RequireFromString(b.String()).Shift(int32(-scale))
}

func (g *gen) command() domain.Command {
	switch x := g.r.Float64(); {
	case x < 0.04 || len(g.m.assets) == 0 && x < 0.5:
		a := propAssets[g.pick(len(propAssets))]
		switch {
		case g.chance(0.1):
			a.Scale = g.pick(19)
		case g.chance(0.03):
			a.Code = strings.ToLower(a.Code)
		case g.chance(0.03):
			a.Scale = 19
		}
		return domain.Command{Asset: &a}
	case x < 0.12 || len(g.m.accounts) < 4 && x < 0.4:
		return domain.Command{Account: g.account()}
	}
	return domain.Command{Transfer: g.transfer()}
}

func (g *gen) account() *domain.Account {
	id := fmt.Sprintf("a%d", g.pick(12))
	if g.chance(0.03) {
		id = domain.World
	}
	if have, ok := g.m.accounts[id]; ok && g.chance(0.5) {
		// The same definition, possibly spelt differently.
		a := &domain.Account{ID: id, Asset: have.asset}
		switch {
		case have.unlimited:
			a.OverdraftLimit = domain.Unlimited
		case have.limit.IsZero() && g.chance(0.5):
		default:
			a.OverdraftLimit = g.amountLiteral(have.limit, g.m.assets[have.asset].scale)
		}
		if g.chance(0.2) {
			a.Metadata = map[string]string{}
		}
		return a
	}
	a := &domain.Account{ID: id, Asset: propAssets[g.pick(len(propAssets))].Code}
	if g.chance(0.03) {
		a.Asset = "XAU"
	}
	scale := 2
	if as, ok := g.m.assets[a.Asset]; ok {
		scale = as.scale
	}
	switch x := g.r.Float64(); {
	case x < 0.4:
	case x < 0.6:
		a.OverdraftLimit = domain.Unlimited
	case x < 0.9:
		a.OverdraftLimit = g.amountLiteral(g.randomAmount(scale), scale)
	case x < 0.95:
		a.OverdraftLimit = "0"
	case x < 0.98:
		a.OverdraftLimit = "1." + strings.Repeat("1", scale+1)
	default:
		a.OverdraftLimit = "-5"
	}
	if g.chance(0.1) {
		a.Owner = "owner-" + id
	}
	return a
}

func (g *gen) transfer() *domain.Transfer {
	// A replay of a posted transfer, spelt differently.
	if len(g.m.posted) > 0 && g.chance(0.08) {
		ids := slices.Sorted(maps.Keys(g.m.posted))
		p := g.m.posted[ids[g.pick(len(ids))]]
		t := p.cmd
		scale := g.scaleOf(t)
		t.Amount = g.amountLiteral(decimal.RequireFromString(t.Amount), scale)
		if g.chance(0.3) {
			t.Metadata = map[string]string{}
		}
		if g.chance(0.2) {
			// ...or a different body under the same id.
			t.Amount = g.amountLiteral(g.randomAmount(scale), scale)
		}
		return &t
	}

	t := &domain.Transfer{From: g.accountID(), To: g.accountID()}
	if g.chance(0.7) {
		t.To = g.peer(t.From)
	}
	switch {
	case len(g.usedID) > 0 && g.chance(0.1):
		t.ID = g.usedID[g.pick(len(g.usedID))]
	case g.chance(0.01):
		t.ID = "bad/id"
	default:
		g.nextID++
		t.ID = fmt.Sprintf("t%d", g.nextID)
		g.usedID = append(g.usedID, t.ID)
	}
	switch x := g.r.Float64(); {
	case x < 0.7:
	case x < 0.85:
		for _, id := range []string{t.From, t.To} {
			if acc, ok := g.m.accounts[id]; ok {
				t.Asset = acc.asset
			}
		}
		if t.Asset == "" {
			t.Asset = propAssets[g.pick(len(propAssets))].Code
		}
	case x < 0.97:
		t.Asset = propAssets[g.pick(len(propAssets))].Code
	default:
		t.Asset = "XAU"
	}
	scale := g.scaleOf(*t)
	amount := g.randomAmount(scale)
	// Aim at the edge of the debited account's limit now and then.
	if acc, ok := g.m.accounts[t.From]; ok && !acc.unlimited && g.chance(0.15) {
		room := acc.balance.Add(acc.limit)
		if g.chance(0.3) {
			room = room.Add(decimal.New(1, int32(-g.m.assets[acc.asset].scale)))
		}
		if room.IsPositive() {
			amount = room
		}
	}
	t.Amount = g.amountLiteral(amount, scale)
	switch x := g.r.Float64(); {
	case x < 0.04: // one decimal place too many
		if !strings.Contains(t.Amount, ".") {
			t.Amount += "."
		}
		frac := len(t.Amount) - strings.IndexByte(t.Amount, '.') - 1
		t.Amount += strings.Repeat("0", scale-frac) + "1"
	case x < 0.06:
		t.Amount = "0"
	case x < 0.07:
		t.Amount = "1e3"
	}
	if g.chance(0.1) {
		t.Reference = fmt.Sprintf("ref %d \u00e9 <&>", g.pick(3))
	}
	if g.chance(0.005) {
		t.Reference = "bell\a"
	}
	switch x := g.r.Float64(); {
	case x < 0.05:
		t.Metadata = map[string]string{}
	case x < 0.1:
		t.Metadata = map[string]string{"k": fmt.Sprint(g.pick(2))}
	}
	return t
}

// scaleOf guesses the scale a transfer's amount will be read at, so that
// most generated amounts are valid.
func (g *gen) scaleOf(t domain.Transfer) int {
	if a, ok := g.m.assets[t.Asset]; ok {
		return a.scale
	}
	for _, id := range []string{t.From, t.To} {
		if acc, ok := g.m.accounts[id]; ok {
			return g.m.assets[acc.asset].scale
		}
	}
	return 2
}

func encodeEvent(t testing.TB, ev *domain.Event) []byte {
	t.Helper()
	cp := *ev
	b, _, err := domain.AppendEvent(nil, &cp, domain.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameDecisionBytes compares two decisions, their events by encoding.
func sameDecisionBytes(t testing.TB, a, b domain.Decision) bool {
	if a.Outcome != b.Outcome || a.ReplayOf != b.ReplayOf || (a.Err == nil) != (b.Err == nil) || (a.Event == nil) != (b.Event == nil) {
		return false
	}
	if a.Err != nil && (a.Err.Code() != b.Err.Code() || a.Err.Error() != b.Err.Error()) {
		return false
	}
	return a.Event == nil || bytes.Equal(encodeEvent(t, a.Event), encodeEvent(t, b.Event))
}

func TestDecideProperties(t *testing.T) {
	seeds, steps := 20, 2000
	if testing.Short() {
		seeds = 4
	}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			runProperties(t, uint64(seed), steps)
		})
	}
}

func runProperties(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 0x1ed9e7))
	state := domain.NewState()
	replica := domain.NewState() // fed only through the journal's bytes
	model := newRefModel()
	obs := newObserver()
	g := &gen{r: r, m: model}
	outcomes := map[string]int{}

	for step := 1; step <= steps; step++ {
		c := g.command()
		c.Ref = domain.CommandRef{Seq: uint64(step)}
		now := testEpoch.Add(time.Duration(step) * time.Second)
		exp := model.predict(c)

		before := state.Seq()
		d := state.Decide(c, now)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d step %d %s -> outcome %d err %v: %s", seed, step, describeCommand(c), d.Outcome, d.Err, fmt.Sprintf(format, args...))
		}
		if err := checkDecision(c, d, before, state.Seq(), now); err != nil {
			fail("%v", err)
		}
		if d.Outcome != exp.outcome || d.ReplayOf != exp.replayOf || (d.Event != nil) != exp.hasEvent() {
			fail("model expected outcome %d code %q journaled %v replayOf %d", exp.outcome, exp.code, exp.journaled, exp.replayOf)
		}
		if d.Err != nil && d.Err.Code() != exp.code {
			fail("model expected code %s", exp.code)
		}
		if exp.detail != "" && d.Err.Error() != exp.detail {
			fail("detail %q, model expected %q", d.Err.Error(), exp.detail)
		}
		key := fmt.Sprint(d.Outcome)
		if d.Err != nil {
			key += "/" + string(d.Err.Code())
		}
		outcomes[key]++

		// Now and then the replica decides the same command itself, and
		// must agree; otherwise it applies the event from the journal.
		replicaDecides := r.IntN(10) == 0
		if replicaDecides {
			rd := replica.Decide(c, now)
			if !sameDecisionBytes(t, d, rd) {
				fail("a state rebuilt from the journal decided %+v", rd)
			}
		}

		if d.Event != nil {
			model.seq++
			if exp.commit != nil {
				exp.commit(d.Event.Seq)
			}
			var err error
			start := len(obs.journal)
			obs.journal, obs.lastHash, err = domain.AppendEvent(obs.journal, d.Event, obs.lastHash)
			if err != nil {
				fail("AppendEvent: %v", err)
			}
			line := obs.journal[start : len(obs.journal)-1]
			if _, err := domain.VerifyLine(line, mustParseHash(t, d.Event.PrevHash)); err != nil {
				fail("VerifyLine: %v", err)
			}
			dec, err := domain.DecodeEvent(line)
			if err != nil {
				fail("DecodeEvent: %v", err)
			}
			if !replicaDecides {
				if err := replica.Apply(dec); err != nil {
					fail("replica Apply: %v", err)
				}
			}
			if err := obs.observe(dec); err != nil {
				fail("journal: %v", err)
			}
		}
		if err := obs.checkInvariants(); err != nil {
			fail("invariant: %v", err)
		}
		if state.Seq() != model.seq || replica.Seq() != state.Seq() {
			fail("sequences: state %d replica %d model %d", state.Seq(), replica.Seq(), model.seq)
		}
		for id, acc := range model.accounts {
			got := obs.balance[id]
			if !got.Equal(acc.balance) {
				fail("account %s: journal says %s, model %s", id, got, acc.balance)
			}
		}
		for code, a := range model.assets {
			if got := obs.balance["world/"+code]; !got.Equal(a.world) {
				fail("world %s: journal says %s, model %s", code, got, a.world)
			}
		}
	}
	if state.CommandSeq() != obs.maxCmd || replica.CommandSeq() != obs.maxCmd {
		t.Fatalf("command sequence: state %d replica %d journal %d", state.CommandSeq(), replica.CommandSeq(), obs.maxCmd)
	}

	// A state rebuilt from the whole journal at once decides like the one
	// that wrote it.
	lines, err := domain.SplitRecord(obs.journal)
	if err != nil {
		t.Fatal(err)
	}
	fresh := domain.NewState()
	var prev domain.Hash
	for _, l := range lines {
		if prev, err = domain.VerifyLine(l, prev); err != nil {
			t.Fatal(err)
		}
		ev, err := domain.DecodeEvent(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := fresh.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		c := g.command()
		c.Ref = domain.CommandRef{Seq: uint64(steps + 1 + i)}
		a, b := state.Decide(c, testEpoch), fresh.Decide(c, testEpoch)
		if !sameDecisionBytes(t, a, b) {
			t.Fatalf("probe %s: rebuilt %+v, original %+v", describeCommand(c), b, a)
		}
	}

	t.Logf("outcomes: %v", outcomes)
	// Guard against a generator that drifted into testing nothing.
	for _, k := range []string{
		fmt.Sprint(domain.Posted), fmt.Sprint(domain.Replayed), fmt.Sprint(domain.Existed),
		fmt.Sprint(domain.Rejected) + "/" + string(domain.CodeInsufficientFunds),
		fmt.Sprint(domain.Rejected) + "/" + string(domain.CodeIdempotencyConflict),
		fmt.Sprint(domain.Rejected) + "/" + string(domain.CodeAssetMismatch),
		fmt.Sprint(domain.Rejected) + "/" + string(domain.CodeInvalidAmount),
	} {
		if outcomes[k] == 0 {
			t.Errorf("seed %d never produced %s: %v", seed, k, outcomes)
		}
	}
}

func mustParseHash(t testing.TB, s string) domain.Hash {
	t.Helper()
	h, err := domain.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
