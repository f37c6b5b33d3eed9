//go:build cgo && sqlitebench_mattn

package sqlitebench

// Reference point only: github.com/mattn/go-sqlite3 needs cgo and a C
// compiler, which the project cannot assume. It registers the same driver
// name ("sqlite3") as ncruces, so it must be renamed at link time:
//
//	go test -tags sqlitebench_mattn \
//	  -ldflags='-X github.com/mattn/go-sqlite3.driverName=mattn-sqlite3' ...

import _ "github.com/mattn/go-sqlite3"

func init() {
	drivers = append(drivers, driverCase{
		name:   "mattn-cgo",
		driver: "mattn-sqlite3",
		dsn: func(p string) string {
			return "file:" + p + "?_journal_mode=WAL&_synchronous=NORMAL"
		},
	})
}
