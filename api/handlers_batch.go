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
	Status   int             `json:"status"`
	Replayed bool            `json:"replayed,omitempty"`
	Transfer *transferAnswer `json:"transfer,omitempty"`
	Problem  *Problem        `json:"problem,omitempty"`
}

type batchResponse struct {
	Results []batchResult `json:"results"`
}

// createBatch posts up to MaxBatchItems transfers in one command message
// and answers each item's outcome in request order; an atomic batch is
// posted whole or not at all.
func (s *Server) createBatch(c echo.Context) error {
	var req batchRequest
	if err := decodeBatch(c, &req); err != nil {
		return err
	}
	if n := len(req.Transfers); n == 0 || n > MaxBatchItems {
		return &domain.FieldError{Field: "transfers", Reason: "must hold 1 to " + strconv.Itoa(MaxBatchItems) + " transfers"}
	}
	results, items, index, invalid := batchItems(req.Transfers, principalOf(c).actor())
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
	if _, ok := s.submit.(EnvelopeSubmitter); !ok && req.Atomic {
		return problem(CodeUnavailable, "atomic batches are not available")
	}
	rs, err := s.submitBatch(ctx, items, req.Atomic, !async)
	if err != nil {
		if err := s.submitError(err, "the batch"); !errors.Is(err, errNoAnswer) {
			return err
		}
		return s.batchPending(c, items, index, results)
	}
	if async {
		return s.batchPending(c, items, index, results)
	}
	known, err := s.awaitBatchReplays(c, rs, index, results)
	if err != nil {
		return err
	}
	if !known {
		return s.batchPending(c, items, index, results)
	}
	s.batchOutcomes(c, rs, items, index, results)
	return respond(c, http.StatusOK, batchResponse{Results: results})
}

// batchItems validates each transfer of a batch: the valid ones become
// items, with index mapping each item to its place in the request, and
// the invalid ones' problems are set in results. invalid is the first
// invalid transfer's place, or -1.
func batchItems(transfers []transferRequest, actor *domain.Actor) (results []batchResult, items []commands.Item, index []int, invalid int) {
	results = make([]batchResult, len(transfers))
	items = make([]commands.Item, 0, len(transfers))
	index = make([]int, 0, len(transfers)) // item -> position in the request
	invalid = -1
	for i, tr := range transfers {
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
	return results, items, index, invalid
}

// submitBatch stores items as one command message, atomic when asked
// (which needs an EnvelopeSubmitter), and with wait, waits for their
// outcomes.
func (s *Server) submitBatch(ctx context.Context, items []commands.Item, atomic, wait bool) ([]commands.Result, error) {
	if es, ok := s.submit.(EnvelopeSubmitter); ok {
		return es.SubmitEnvelope(ctx, items, atomic, wait)
	}
	return s.submit.Submit(ctx, items, wait)
}

// awaitBatchReplays advances the read-your-writes mark past the items
// decided now and waits for the read model to apply the originals of the
// replayed ones. known is false when it has not in time: the rejected
// items' problems are then set in results, and the rest are pending.
func (s *Server) awaitBatchReplays(c echo.Context, rs []commands.Result, index []int, results []batchResult) (known bool, err error) {
	var replayed uint64 // the latest original of a replayed item, read from the read model
	for _, r := range rs {
		switch r.Outcome {
		case commands.OutcomePosted, commands.OutcomeRejected:
			s.answered(c, r.Seq) // reads that follow see it (consistency.go)
		case commands.OutcomeReplayed:
			replayed = max(replayed, r.Seq)
		}
	}
	noteSequence(c, replayed)
	if replayed == 0 {
		return true, nil
	}
	// A replay answers from the read model. One that has not applied the
	// originals in time cannot say what they were, but they are decided:
	// the batch is answered as one whose outcomes are not known in time
	// (202, each at its Location), as a single transfer's replay is,
	// never with a false "not found".
	if err := s.waitRead(c.Request().Context(), replayed); err != nil {
		if errors.Is(c.Request().Context().Err(), context.Canceled) {
			return false, err // the client left
		}
		for k, r := range rs {
			if r.Outcome == commands.OutcomeRejected { // known now; not pending
				p := problemOf(resultProblem(r)).p
				results[index[k]] = batchResult{Status: p.Status, Problem: &p}
			}
		}
		return false, nil
	}
	return true, nil
}

// batchOutcomes sets each item's outcome in results: posted from the
// processor's decision, replayed from the read model, rejected as a
// problem.
func (s *Server) batchOutcomes(c echo.Context, rs []commands.Result, items []commands.Item, index []int, results []batchResult) {
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
			results[i] = batchResult{Status: http.StatusOK, Replayed: true, Transfer: &transferAnswer{TransferView: asAnswered(v)}}
		default:
			p := problemOf(resultProblem(r)).p
			results[i] = batchResult{Status: p.Status, Problem: &p}
		}
	}
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
		s.pending.add(it.Transfer.ID, principalOf(c), domain.FingerprintBody(*it.Transfer))
	}
	for i, r := range results {
		if r.Problem != nil {
			body.Invalid = append(body.Invalid, batchInvalid{Index: i, Problem: r.Problem})
		}
	}
	return respond(c, http.StatusAccepted, body)
}
