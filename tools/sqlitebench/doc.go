// Package sqlitebench benchmarks candidate SQLite drivers against the
// ledger's read-model workload. It is a separate module so the benchmark's
// dependencies never reach the main module. See README.md and
// docs/adr/0002-sqlite-driver.md.
package sqlitebench
