package sqlitebench

// Benchmarks that mirror the ledger read-model projector and its queries.
//
// Every benchmark runs once per driver (sub-benchmark), each on a fresh file
// in b.TempDir(), in WAL mode with synchronous=NORMAL, through database/sql
// with a single connection (the projector is a single writer). Setup and
// data generation are excluded from the timings. One benchmark op is a fixed
// amount of work so that -benchtime=Nx gives every driver an identical,
// deterministic workload (same rows, same final file size):
//
//	ApplyBatch:  1 journal batch of 1000 transfers in 1 transaction
//	ApplySingle: 1000 transfers, 1 transaction each
//	PointRead:   1000 balance look-ups by primary key (10,000 accounts)
//	PageRead:    1000 newest-first pages of 20 entries (100,000 entries)

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
)

const (
	batchSize     = 1000    // transfers per journal batch (= per op for the apply benchmarks)
	applyAccounts = 10_000  // account pool the apply benchmarks draw from
	readsPerOp    = 1000    // queries per op for the read benchmarks
	pointAccounts = 10_000  // rows in balances for PointRead
	pageEntries   = 100_000 // rows in entries for PageRead
	pageAccounts  = 1_000   // accounts those entries are spread over (~100 each)
	pageSize      = 20
)

const schema = `
CREATE TABLE transfers (
	id           TEXT PRIMARY KEY,
	seq          INTEGER NOT NULL,
	from_account TEXT NOT NULL,
	to_account   TEXT NOT NULL,
	asset        TEXT NOT NULL,
	amount       TEXT NOT NULL,
	reference    TEXT NOT NULL,
	posted_at    INTEGER NOT NULL
);
CREATE TABLE entries (
	account     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	transfer_id TEXT NOT NULL,
	type        TEXT NOT NULL,
	amount      TEXT NOT NULL,
	balance     TEXT NOT NULL,
	PRIMARY KEY (account, seq)
);
CREATE TABLE balances (
	account  TEXT PRIMARY KEY,
	balance  TEXT NOT NULL,
	last_seq INTEGER NOT NULL
);
CREATE TABLE checkpoint (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	last_seq INTEGER NOT NULL
);
INSERT INTO checkpoint (id, last_seq) VALUES (1, 0);
`

const (
	sqlInsertTransfer = `INSERT INTO transfers (id, seq, from_account, to_account, asset, amount, reference, posted_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertEntry = `INSERT INTO entries (account, seq, transfer_id, type, amount, balance)
VALUES (?, ?, ?, ?, ?, ?)`
	sqlUpsertBalance = `INSERT INTO balances (account, balance, last_seq) VALUES (?, ?, ?)
ON CONFLICT (account) DO UPDATE SET balance = excluded.balance, last_seq = excluded.last_seq`
	sqlUpdateCheckpoint = `UPDATE checkpoint SET last_seq = ? WHERE id = 1`
	sqlPointRead        = `SELECT balance FROM balances WHERE account = ?`
	sqlPageRead         = `SELECT account, seq, transfer_id, type, amount, balance FROM entries
WHERE account = ? AND seq < ? ORDER BY seq DESC LIMIT 20`
)

// openDB opens a fresh database file for d in a new temp dir, checks that
// WAL and synchronous=NORMAL are in effect, and creates the schema.
func openDB(b *testing.B, d driverCase) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "readmodel.db")
	db, err := sql.Open(d.driver, d.dsn(path))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)

	var mode string
	var syncMode int
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&syncMode); err != nil {
		b.Fatal(err)
	}
	if mode != "wal" || syncMode != 1 {
		b.Fatalf("%s: journal_mode=%s synchronous=%d, want wal/1 (NORMAL)", d.name, mode, syncMode)
	}
	if _, err := db.Exec(schema); err != nil {
		b.Fatal(err)
	}
	return db
}

func checkpointWAL(b *testing.B, db *sql.DB) {
	b.Helper()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
}

func mustPrepare(b *testing.B, db *sql.DB, q string) *sql.Stmt {
	b.Helper()
	st, err := db.Prepare(q)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// transfer is one posted transfer plus the running balances it produces.
type transfer struct {
	id, from, to, asset, amount, reference string
	fromBalance, toBalance                 string
	seq, postedAt                          int64
}

// generator deterministically produces journal batches.
type generator struct {
	rng      *rand.Rand
	accounts []string
	balances []int64 // minor units, indexed like accounts
	seq      int64
}

func newGenerator(nAccounts int, seed uint64) *generator {
	g := &generator{
		rng:      rand.New(rand.NewPCG(seed, 0x1ed6e4)),
		accounts: accountNames(nAccounts),
		balances: make([]int64, nAccounts),
	}
	return g
}

func accountNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("acct:%06d", i)
	}
	return names
}

func (g *generator) uuid() string {
	var u [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.rng.Uint64()
		for j := 0; j < 8; j++ {
			u[i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}

// formatMinor renders minor units as a decimal string, e.g. -1234 -> "-12.34".
func formatMinor(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	frac := v % 100
	s := strconv.FormatInt(v/100, 10) + "." + string([]byte{byte('0' + frac/10), byte('0' + frac%10)})
	if neg {
		return "-" + s
	}
	return s
}

func (g *generator) batch(n int) []transfer {
	ts := make([]transfer, n)
	for i := range ts {
		f := g.rng.IntN(len(g.accounts))
		t := g.rng.IntN(len(g.accounts) - 1)
		if t >= f {
			t++
		}
		amt := 1 + g.rng.Int64N(1_000_000)
		g.balances[f] -= amt
		g.balances[t] += amt
		g.seq++
		ts[i] = transfer{
			id:          g.uuid(),
			seq:         g.seq,
			from:        g.accounts[f],
			to:          g.accounts[t],
			asset:       "USD",
			amount:      formatMinor(amt),
			reference:   "inv-" + strconv.FormatInt(g.seq, 10),
			postedAt:    1_700_000_000_000_000_000 + g.seq*1_000_000,
			fromBalance: formatMinor(g.balances[f]),
			toBalance:   formatMinor(g.balances[t]),
		}
	}
	return ts
}

// projector applies transfers with prepared statements, as the read-model
// projector does.
type projector struct {
	db                                                     *sql.DB
	insTransfer, insEntry, upsertBalance, updateCheckpoint *sql.Stmt
}

func newProjector(b *testing.B, db *sql.DB) *projector {
	return &projector{
		db:               db,
		insTransfer:      mustPrepare(b, db, sqlInsertTransfer),
		insEntry:         mustPrepare(b, db, sqlInsertEntry),
		upsertBalance:    mustPrepare(b, db, sqlUpsertBalance),
		updateCheckpoint: mustPrepare(b, db, sqlUpdateCheckpoint),
	}
}

// apply writes ts in one transaction.
func (p *projector) apply(ctx context.Context, ts []transfer) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	insT := tx.StmtContext(ctx, p.insTransfer)
	insE := tx.StmtContext(ctx, p.insEntry)
	upB := tx.StmtContext(ctx, p.upsertBalance)
	upC := tx.StmtContext(ctx, p.updateCheckpoint)
	for i := range ts {
		t := &ts[i]
		if _, err := insT.ExecContext(ctx, t.id, t.seq, t.from, t.to, t.asset, t.amount, t.reference, t.postedAt); err != nil {
			return err
		}
		if _, err := insE.ExecContext(ctx, t.from, t.seq, t.id, "debit", t.amount, t.fromBalance); err != nil {
			return err
		}
		if _, err := insE.ExecContext(ctx, t.to, t.seq, t.id, "credit", t.amount, t.toBalance); err != nil {
			return err
		}
		if _, err := upB.ExecContext(ctx, t.from, t.fromBalance, t.seq); err != nil {
			return err
		}
		if _, err := upB.ExecContext(ctx, t.to, t.toBalance, t.seq); err != nil {
			return err
		}
		if _, err := upC.ExecContext(ctx, t.seq); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func runApply(b *testing.B, txPerTransfer bool) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			db := openDB(b, d)
			p := newProjector(b, db)
			g := newGenerator(applyAccounts, 1)
			b.ReportAllocs()
			ops := 0
			for b.Loop() {
				b.StopTimer()
				ts := g.batch(batchSize)
				b.StartTimer()
				if txPerTransfer {
					for i := range ts {
						if err := p.apply(ctx, ts[i:i+1]); err != nil {
							b.Fatal(err)
						}
					}
				} else if err := p.apply(ctx, ts); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			b.ReportMetric(float64(ops*batchSize)/b.Elapsed().Seconds(), "transfers/s")

			var last int64
			if err := db.QueryRow(`SELECT last_seq FROM checkpoint`).Scan(&last); err != nil {
				b.Fatal(err)
			}
			if last != int64(ops*batchSize) {
				b.Fatalf("checkpoint at %d, want %d", last, ops*batchSize)
			}
		})
	}
}

// BenchmarkApplyBatch: one transaction per journal batch of 1000 transfers.
func BenchmarkApplyBatch(b *testing.B) { runApply(b, false) }

// BenchmarkApplySingle: one transaction per transfer (1000 per op).
func BenchmarkApplySingle(b *testing.B) { runApply(b, true) }

// BenchmarkPointRead: balance of one account by primary key.
func BenchmarkPointRead(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			db := openDB(b, d)
			accounts := accountNames(pointAccounts)
			rng := rand.New(rand.NewPCG(2, 0x1ed6e4))
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			for i, a := range accounts {
				bal := formatMinor(rng.Int64N(2_000_000_000) - 1_000_000_000)
				if _, err := tx.Exec(sqlUpsertBalance, a, bal, int64(i+1)); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			checkpointWAL(b, db)
			st := mustPrepare(b, db, sqlPointRead)

			b.ReportAllocs()
			ops := 0
			var bal string
			for b.Loop() {
				for range readsPerOp {
					if err := st.QueryRow(accounts[rng.IntN(len(accounts))]).Scan(&bal); err != nil {
						b.Fatal(err)
					}
				}
				ops++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*readsPerOp), "ns/read")
		})
	}
}

// BenchmarkPageRead: newest-first page of 20 entries for one account.
func BenchmarkPageRead(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			db := openDB(b, d)
			g := newGenerator(pageAccounts, 3)
			seqs := make(map[string][]int64, pageAccounts) // ascending per account
			insEntry := mustPrepare(b, db, sqlInsertEntry) // before Begin: one connection
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			ins := tx.Stmt(insEntry)
			for n := 0; n < pageEntries; n += 2 * batchSize {
				for _, t := range g.batch(batchSize) {
					if _, err := ins.Exec(t.from, t.seq, t.id, "debit", t.amount, t.fromBalance); err != nil {
						b.Fatal(err)
					}
					if _, err := ins.Exec(t.to, t.seq, t.id, "credit", t.amount, t.toBalance); err != nil {
						b.Fatal(err)
					}
					seqs[t.from] = append(seqs[t.from], t.seq)
					seqs[t.to] = append(seqs[t.to], t.seq)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			checkpointWAL(b, db)
			var count int
			if err := db.QueryRow(`SELECT count(*) FROM entries`).Scan(&count); err != nil || count != pageEntries {
				b.Fatalf("entries=%d err=%v, want %d", count, err, pageEntries)
			}

			// Cursors that each yield a full page: seq < seqs[i] with i >= 20.
			type query struct {
				account string
				before  int64
			}
			var queries []query
			for _, a := range g.accounts {
				s := seqs[a]
				for i := pageSize; i < len(s); i++ {
					queries = append(queries, query{a, s[i]})
				}
			}
			rng := rand.New(rand.NewPCG(4, 0x1ed6e4))
			rng.Shuffle(len(queries), func(i, j int) { queries[i], queries[j] = queries[j], queries[i] })
			st := mustPrepare(b, db, sqlPageRead)

			var (
				account, transferID, typ, amount, balance string
				seq                                       int64
			)
			b.ReportAllocs()
			ops, qi := 0, 0
			for b.Loop() {
				for range readsPerOp {
					q := queries[qi%len(queries)]
					qi++
					rows, err := st.Query(q.account, q.before)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						if err := rows.Scan(&account, &seq, &transferID, &typ, &amount, &balance); err != nil {
							b.Fatal(err)
						}
						n++
					}
					if err := rows.Err(); err != nil {
						b.Fatal(err)
					}
					if err := rows.Close(); err != nil {
						b.Fatal(err)
					}
					if n != pageSize {
						b.Fatalf("page for %s before %d: %d rows, want %d", q.account, q.before, n, pageSize)
					}
				}
				ops++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*readsPerOp), "ns/read")
		})
	}
}
