//go:build !purego

// An assembly file, empty, so that the compiler accepts memhash's
// declaration without a body (its body is the runtime's, by linkname).
