package api

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fastBatchSeeds are bodies in the plain form and near it: every one
// fastBatch takes must decode as decodeBody decodes it.
var fastBatchSeeds = []string{
	`{"transfers":[{"id":"t-1","from":"a","to":"b","amount":"0.25","reference":"r"}]}`,
	` { "atomic" : true , "transfers" : [ { "from" : "a" , "to" : "b" , "amount" : "1" } , {"from":"b","to":"a","amount":"2.50","asset":"USD"} ] } ` + "\n",
	`{"transfers":[{"id":"x","from":"a","to":"b","amount":"1","asset":"EUR","reference":"ref","metadata":{"k":"v","K":"w","":"e"},"memo":true,"exchange_rate":"1.1","pending":false,"expires_at":"2030-01-01T00:00:00Z"}],"atomic":false}`,
	`{"transfers":[{"from":"é","to":"日本","amount":"1"}]}`,
	`{"transfers":[],"atomic":true}`,
	`{"transfers":[{}]}`,
	`{}`,
	`{"transfers":[{"metadata":{}}]}`,
	// Not in the plain form: the general decoder answers these.
	`{"transfers":[{"from":"a","to":"b","amount":1.5}]}`,
	`{"transfers":[{"from":"a\n","to":"b","amount":"1"}]}`,
	`{"transfers":[{"from":"a\u0041","to":"b","amount":"1"}]}`,
	`{"transfers":[{"ID":"a","id":"b"}]}`,
	`{"transfers":[{"id":"a","id":"b"}]}`,
	`{"transfers":[{"metadata":{"k":"1","k":"2"}}]}`,
	`{"transfers":[{"id":null}]}`,
	`{"transfers":null}`,
	`{"transfers":[],"transfers":[]}`,
	`{"transfers":[{"from":"a"}]} x`,
	`{"transfers":[{"from":"a"}],}`,
	`{"transfers":[{"from":"a"},]}`,
	`{"transfers":[{"from":"a","unknown":"b"}]}`,
	`{"atomic":"true"}`,
	`{"atomic":tru}`,
	"{\"transfers\":[{\"from\":\"\xff\"}]}",
	"\uFEFF{}",
	`[]`,
	``,
}

// FuzzFastBatchAgreesWithDecodeBody: whatever body fastBatch takes, the
// general decoder (scanBody, then encoding/json) takes too and decodes to
// the same request, so the fast path never changes an answer.
func FuzzFastBatchAgreesWithDecodeBody(f *testing.F) {
	for _, s := range fastBatchSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var fast batchRequest
		if !fastBatch([]byte(body), &fast) {
			return
		}
		var slow batchRequest
		if err := decodeJSON([]byte(body), &slow); err != nil {
			t.Fatalf("fastBatch took %q, the general decoder refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast    %#v\ngeneral %#v", body, fast, slow)
		}
	})
}

// TestFastBatchTakesThePlainForm: the bodies ledger bench and the
// generated client send take the fast path (else it would buy nothing),
// including a full batch of 1,000.
func TestFastBatchTakesThePlainForm(t *testing.T) {
	item := `{"id":"bench-1-0","from":"bench-0001","to":"bench-0002","amount":"0.42","reference":"bench-run"}`
	for _, body := range append(slices.Clone(fastBatchSeeds[:8]),
		`{"transfers":[`+strings.Repeat(item+",", MaxBatchItems-1)+item+`]}`) {
		var req batchRequest
		if !fastBatch([]byte(body), &req) {
			t.Errorf("fastBatch refuses %.80q", body)
		}
	}
	for _, body := range fastBatchSeeds[8:] {
		var req batchRequest
		if fastBatch([]byte(body), &req) {
			t.Errorf("fastBatch takes %.80q, which is not in the plain form", body)
		}
	}
}

// BenchmarkDecodeBatch decodes a batch of 1,000 transfers as ledger
// bench sends it, by the general decoder and by fastBatch; ns/item is the
// figure docs/BENCHMARKS.md quotes.
func BenchmarkDecodeBatch(b *testing.B) {
	items := make([]string, MaxBatchItems)
	for i := range items {
		items[i] = `{"id":"bench-1a2b3c4d-7-` + strconv.Itoa(i) + `","from":"bench-` + strconv.Itoa(i%1000) +
			`","to":"bench-` + strconv.Itoa((i+1)%1000) + `","amount":"0.42","reference":"bench-1a2b3c4d"}`
	}
	body := []byte(`{"transfers":[` + strings.Join(items, ",") + `]}`)
	for _, tc := range []struct {
		name   string
		decode func(*batchRequest) bool
	}{
		{"general", func(r *batchRequest) bool { return decodeJSON(body, r) == nil }},
		{"fast", func(r *batchRequest) bool { return fastBatch(body, r) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				var req batchRequest
				if !tc.decode(&req) || len(req.Transfers) != MaxBatchItems {
					b.Fatal("not decoded")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatchItems), "ns/item")
		})
	}
}
