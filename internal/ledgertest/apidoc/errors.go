package apidoc

import (
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// errorsRow matches a row of docs/errors.md: its anchor, its code and its
// status.
var errorsRow = regexp.MustCompile("(?m)^\\| <a id=\"([a-z_]+)\"></a>`([a-z_]+)` \\| ([0-9]{3}) \\|")

// ErrorAnchors reads the anchors of the code catalogue at path
// (docs/errors.md) with the status of their rows, checking that each row's
// anchor is its code and every anchor is in a row.
func ErrorAnchors(t testing.TB, path string) map[string]int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]int{}
	for _, m := range errorsRow.FindAllStringSubmatch(string(raw), -1) {
		if m[1] != m[2] {
			t.Errorf("docs/errors.md: the row of %s has the anchor %s", m[2], m[1])
		}
		status, _ := strconv.Atoi(m[3])
		anchors[m[1]] = status
	}
	if n := strings.Count(string(raw), "<a id="); n != len(anchors) {
		t.Errorf("docs/errors.md has %d anchors, %d of them in rows of the table", n, len(anchors))
	}
	return anchors
}

// Headings returns the anchors GitHub gives the headings of the markdown
// file at path: lower case, spaces as '-', punctuation dropped.
func Headings(t testing.TB, path string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		title, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !strings.HasPrefix(line, "#") || !ok {
			continue
		}
		slug := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				return r
			}
			return -1
		}, strings.ToLower(title))
		out[slug] = true
	}
	return out
}

// CheckErrorsLink checks that a problem's type is a link to this
// repository's docs/errors.md with an anchor that exists there.
func CheckErrorsLink(t testing.TB, anchors map[string]int, typ, where string) {
	t.Helper()
	u, err := url.Parse(typ)
	if err != nil || u.Scheme != "https" || u.Host != "github.com" {
		t.Errorf("%s: type %q is not a link to the repository", where, typ)
		return
	}
	if !strings.HasPrefix(u.Path, "/nats-ledger/ledger/blob/") || !strings.HasSuffix(u.Path, "/docs/errors.md") {
		t.Errorf("%s: type %q does not link to docs/errors.md", where, typ)
	}
	if _, ok := anchors[u.Fragment]; !ok {
		t.Errorf("%s: type %q links to the anchor %q, which docs/errors.md does not have", where, typ, u.Fragment)
	}
}
