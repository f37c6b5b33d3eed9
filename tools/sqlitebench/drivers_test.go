package sqlitebench

import (
	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3" (wasm2go build of SQLite, no cgo)
	_ "modernc.org/sqlite"                   // registers "sqlite" (C-to-Go translation, no cgo)
)

// driverCase describes one database/sql driver under test.
type driverCase struct {
	name   string // sub-benchmark name
	driver string // name passed to sql.Open
	// dsn returns a DSN for a file database at path, in WAL mode with
	// synchronous=NORMAL.
	dsn func(path string) string
}

// drivers lists the candidates. The cgo reference (mattn) is appended by
// mattn_test.go when built with -tags sqlitebench_mattn.
var drivers = []driverCase{
	{
		name:   "modernc",
		driver: "sqlite",
		dsn: func(p string) string {
			return "file:" + p + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		},
	},
	{
		name:   "ncruces",
		driver: "sqlite3",
		dsn: func(p string) string {
			return "file:" + p + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
		},
	},
}
