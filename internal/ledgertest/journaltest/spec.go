package journaltest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// specHashSuffix is len(`,"hash":"` + 64 hex digits + `"}`), as a stored
// line ends.
const specHashSuffix = 9 + 64 + 2

// SpecBodies returns the lines of the journal spec's test vectors in dir
// (docs/testdata: lines.jsonl, whose lines wrap a stored line as
// {"line": ...}, and journal.jsonl), each without its hash field: the
// bytes up to the hash, then the closing brace, which is what the hash
// covers after the previous hash.
func SpecBodies(t testing.TB, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range []string{"lines.jsonl", "journal.jsonl"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var v struct{ Line string }
			if json.Unmarshal(line, &v) == nil && v.Line != "" {
				line = []byte(v.Line)
			}
			if len(line) < specHashSuffix {
				t.Fatalf("%s: a line of %d bytes has no hash suffix", name, len(line))
			}
			out = append(out, append(bytes.Clone(line[:len(line)-specHashSuffix]), '}'))
		}
	}
	return out
}
