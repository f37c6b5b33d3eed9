package natstest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe to read while others write to it: for a
// test to read a logger's, a server's or a child process's output as it
// comes.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
