package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Batch limits: at most MaxBatchItems transfers in one request, and a body
// of at most MaxBatchBodyBytes (1,000 transfers with modest metadata).
const (
	MaxBatchItems     = domain.MaxAtomicBatch
	MaxBatchBodyBytes = 4 << 20
)

// EnvelopeSubmitter stores several items as one command message, all or
// nothing when atomic. The batch endpoint needs it for atomic batches.
type EnvelopeSubmitter interface {
	SubmitEnvelope(ctx context.Context, items []commands.Item, atomic, wait bool) ([]commands.Result, error)
}

type batchRequest struct {
	Transfers []transferRequest `json:"transfers"`
	Atomic    bool              `json:"atomic"`
}

// batchResult is one item's outcome, in request order: the transfer with
// status 201 (posted) or 200 (a replay), or a problem with its status.
type batchResult struct {
	Status   int                       `json:"status"`
	Replayed bool                      `json:"replayed,omitempty"`
	Transfer *projections.TransferView `json:"transfer,omitempty"`
	Problem  *Problem                  `json:"problem,omitempty"`
}

type batchResponse struct {
	Results []batchResult `json:"results"`
}

func (s *Server) createBatch(c echo.Context) error {
	var req batchRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if n := len(req.Transfers); n == 0 || n > MaxBatchItems {
		return &domain.FieldError{Field: "transfers", Reason: "must hold 1 to " + strconv.Itoa(MaxBatchItems) + " transfers"}
	}
	actor := principalOf(c).actor()
	results := make([]batchResult, len(req.Transfers))
	items := make([]commands.Item, 0, len(req.Transfers))
	index := make([]int, 0, len(req.Transfers)) // item -> position in the request
	invalid := -1
	for i, tr := range req.Transfers {
		t, err := tr.transfer("")
		if err != nil {
			p := problemOf(err).p
			results[i] = batchResult{Status: p.Status, Problem: &p}
			if invalid < 0 {
				invalid = i
			}
			continue
		}
		items = append(items, commands.Item{Actor: actor, Transfer: &t})
		index = append(index, i)
	}
	if req.Atomic && invalid >= 0 {
		// Nothing is submitted: the batch fails as a whole.
		for _, i := range index {
			p := problem(domain.CodeBatchAborted, "not posted: item "+strconv.Itoa(invalid)+" of the atomic batch is invalid").p
			results[i] = batchResult{Status: p.Status, Problem: &p}
		}
		return respond(c, http.StatusOK, batchResponse{Results: results})
	}
	if len(items) == 0 {
		return respond(c, http.StatusOK, batchResponse{Results: results})
	}
	release, err := s.admitted(c, len(items))
	if err != nil {
		return err
	}
	defer release()
	// An atomic batch is always answered with its outcome: one that aborts
	// leaves nothing in the journal, so there would be nothing to read
	// later (Prefer is a preference, RFC 7240).
	async := preferAsync(c.Request().Header.Values("Prefer")) && !req.Atomic
	wait := s.cfg.SyncTimeout
	if async {
		wait = publishTimeout
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), wait)
	defer cancel()
	var rs []commands.Result
	if es, ok := s.submit.(EnvelopeSubmitter); ok {
		rs, err = es.SubmitEnvelope(ctx, items, req.Atomic, !async)
	} else if req.Atomic {
		return problem(CodeUnavailable, "atomic batches are not available")
	} else {
		rs, err = s.submit.Submit(ctx, items, !async)
	}
	if err != nil {
		if err := s.submitError(err, "the batch"); !errors.Is(err, errNoAnswer) {
			return err
		}
		return s.batchPending(c, items, index, results)
	}
	if async {
		return s.batchPending(c, items, index, results)
	}
	var replayed uint64 // the latest original of a replayed item, read from the read model
	for _, r := range rs {
		switch r.Outcome {
		case commands.OutcomePosted, commands.OutcomeRejected:
			s.acked.advance(r.Seq) // reads that follow see it (consistency.go)
		case commands.OutcomeReplayed:
			replayed = max(replayed, r.Seq)
		}
	}
	if replayed > 0 {
		// A replay answers from the read model. One that has not applied
		// the originals in time cannot say what they were, but they are
		// decided: the batch is answered as one whose outcomes are not
		// known in time (202, each at its Location), as a single
		// transfer's replay is, never with a false "not found".
		if err := s.waitRead(c.Request().Context(), replayed); err != nil {
			if errors.Is(c.Request().Context().Err(), context.Canceled) {
				return err // the client left
			}
			for k, r := range rs {
				if r.Outcome == commands.OutcomeRejected { // known now; not pending
					p := problemOf(resultProblem(r)).p
					results[index[k]] = batchResult{Status: p.Status, Problem: &p}
				}
			}
			return s.batchPending(c, items, index, results)
		}
	}
	for k, r := range rs {
		i := index[k]
		switch r.Outcome {
		case commands.OutcomePosted:
			v := postedView(r.Event)
			results[i] = batchResult{Status: http.StatusCreated, Transfer: &v}
		case commands.OutcomeReplayed:
			v, err := s.read.Transfer(c.Request().Context(), items[k].Transfer.ID)
			if err != nil {
				// Applied yet not found would contradict the processor:
				// unavailable, never not found.
				if errors.Is(err, projections.ErrNotFound) {
					err = errors.New("replayed transfer " + items[k].Transfer.ID + " missing from the read model")
				}
				p := problemOf(s.readError(err, CodeTransferNotFound)).p
				results[i] = batchResult{Status: p.Status, Problem: &p}
				continue
			}
			results[i] = batchResult{Status: http.StatusOK, Replayed: true, Transfer: &v}
		default:
			p := problemOf(resultProblem(r)).p
			results[i] = batchResult{Status: p.Status, Problem: &p}
		}
	}
	return respond(c, http.StatusOK, batchResponse{Results: results})
}

// batchPendingBody is the 202 answer to a batch: the ids whose outcomes
// are to be read at their Location, and the items refused (before
// anything was stored, or by the processor when already known).
type batchPendingBody struct {
	Status  string         `json:"status"`
	IDs     []string       `json:"ids"`
	Invalid []batchInvalid `json:"invalid,omitempty"`
}

type batchInvalid struct {
	Index   int      `json:"index"`
	Problem *Problem `json:"problem"`
}

// batchPending answers 202 for the stored items of a batch (asked with
// Prefer: respond-async, past the sync timeout, or replays the read model
// cannot show in time), remembering them as pending for GET
// /v1/transfers/{id}, with the problems of the items refused. index maps
// items to their place in results; an item whose result already holds a
// problem is refused, not pending.
func (s *Server) batchPending(c echo.Context, items []commands.Item, index []int, results []batchResult) error {
	body := batchPendingBody{Status: "pending", IDs: make([]string, 0, len(items))}
	for k, it := range items {
		if results[index[k]].Problem != nil {
			continue
		}
		body.IDs = append(body.IDs, it.Transfer.ID)
		s.pending.add(it.Transfer.ID, principalOf(c), fingerprintOf(*it.Transfer))
	}
	for i, r := range results {
		if r.Problem != nil {
			body.Invalid = append(body.Invalid, batchInvalid{Index: i, Problem: r.Problem})
		}
	}
	return respond(c, http.StatusAccepted, body)
}
