package audit

// SetCompactPostings sets whether a run without a read model or OnChunk
// checks the postings the posting reader takes without their events
// (compactPostings), and returns the setting it replaces: the external
// tests audit each journal both ways (fixture_test.go, run).
func SetCompactPostings(on bool) bool {
	was := compactPostings
	compactPostings = on
	return was
}
