package ddbtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultConfig says which faults a FaultProxy injects.
//
// For every request whose operation matches Ops the proxy draws, from one
// random source seeded with Seed, first a latency (when Latency > 0), then
// one number that picks at most one of Throttle, Error500, Error503, Drop
// and LoseAnswer
// (so their probabilities add up, and should total at most 1), then, when
// the request is forwarded as a BatchWriteItem or BatchGetItem, whether
// Partial applies and which subset to send. Given the order in which
// requests arrive, the faults are therefore the same in every run.
type FaultConfig struct {
	// Seed seeds the random source.
	Seed int64
	// Ops lists the operations faults apply to, by the suffix of the
	// X-Amz-Target header (e.g. "BatchWriteItem"); empty means all.
	Ops []string
	// Throttle is the probability of answering HTTP 400 with a
	// ProvisionedThroughputExceededException or, every other time, a
	// ThrottlingException, without forwarding the request.
	Throttle float64
	// Error500 and Error503 are the probabilities of answering HTTP 500
	// (InternalServerError) or 503 (ServiceUnavailable) without
	// forwarding the request.
	Error500, Error503 float64
	// Drop is the probability of reading the request and then resetting
	// the connection without forwarding it or answering.
	Drop float64
	// LoseAnswer is the probability of forwarding the request — the
	// emulator does it — and then answering HTTP 500 instead of its
	// response, as when DynamoDB wrote and the answer was lost on the way
	// (a timeout, a 5xx from a front end): a client's retry then meets
	// its own write.
	LoseAnswer float64
	// Latency is the most delay (uniformly drawn, "jitter") added before a
	// request is answered or forwarded.
	Latency time.Duration
	// Partial is the probability that a BatchWriteItem forwards only a
	// random non-empty strict subset of its write requests and returns the
	// rest as UnprocessedItems, merged with those of the real response; for
	// BatchGetItem the same is done with Keys and UnprocessedKeys, which
	// keep the table's ProjectionExpression, ExpressionAttributeNames,
	// ConsistentRead and AttributesToGet. What is returned unprocessed was
	// never sent. A request with a single entry is forwarded whole.
	Partial float64
	// FailAll throttles every matching request, like a backend that never
	// recovers.
	FailAll bool
	// ThrottleBodies gives, by operation (X-Amz-Target suffix), the body
	// of the throttles injected for it, sent as it is with HTTP 400: for
	// instance one of DynamoDB's error bodies with ThrottlingReasons.
	// Other operations get the generated bodies.
	ThrottleBodies map[string][]byte

	// Rewrite, if set, rewrites the body of every successful (HTTP 200)
	// response forwarded, of any operation (op: the X-Amz-Target suffix,
	// e.g. "DescribeTable"): it says what an emulator cannot, such as a
	// global table's Replicas. It returns the body to send.
	Rewrite func(op string, body []byte) []byte

	// Respond answers, by operation (X-Amz-Target suffix), every request
	// of that operation itself, without forwarding it or injecting a
	// fault: the function returns the HTTP status and the JSON body to
	// send (a response, or one of DynamoDB's error bodies with a 4xx). It
	// says what an emulator does not serve at all, such as
	// DescribeKinesisStreamingDestination.
	Respond map[string]func() (status int, body []byte)
}

// OpStats counts what a FaultProxy did with one operation's requests.
type OpStats struct {
	Calls       int64 // requests received
	Forwarded   int64 // requests sent on to the target, whole or partial
	Throttles   int64 // throttling errors injected
	Errors500   int64 // HTTP 500 errors injected
	Errors503   int64 // HTTP 503 errors injected
	Drops       int64 // connections reset without an answer
	Lost        int64 // requests forwarded whose answer was replaced by a 500
	Partials    int64 // batch responses with entries withheld
	Unprocessed int64 // entries (write requests or keys) withheld in total
	Responded   int64 // requests answered by FaultConfig.Respond
}

// add adds o's counts to s.
func (s *OpStats) add(o OpStats) {
	s.Calls += o.Calls
	s.Forwarded += o.Forwarded
	s.Throttles += o.Throttles
	s.Errors500 += o.Errors500
	s.Errors503 += o.Errors503
	s.Drops += o.Drops
	s.Lost += o.Lost
	s.Partials += o.Partials
	s.Unprocessed += o.Unprocessed
	s.Responded += o.Responded
}

// FaultStats is a snapshot of a FaultProxy's counters.
type FaultStats struct {
	// Ops holds the counts by operation (X-Amz-Target suffix); requests
	// without X-Amz-Target are counted under "".
	Ops map[string]OpStats
}

// Total returns the counts summed over all operations.
func (s FaultStats) Total() OpStats {
	var t OpStats
	for _, o := range s.Ops {
		t.add(o)
	}
	return t
}

// FaultProxy is an HTTP reverse proxy on a free loopback port, in front of
// a DynamoDB endpoint, that injects faults (see FaultConfig). Point a client
// or a subprocess (AWS_ENDPOINT_URL_DYNAMODB) at URL. Everything that is not
// injected passes through unchanged, except that responses are never
// compressed. It is safe for concurrent use.
type FaultProxy struct {
	target    *url.URL
	ln        net.Listener
	srv       *http.Server
	transport *http.Transport
	served    chan struct{} // closed when srv.Serve returned

	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	cfg       FaultConfig
	ops       map[string]bool // cfg.Ops as a set, nil for all
	rng       *mrand.Rand
	throttles int64 // throttles injected, to alternate their type
	injected  int64 // responses injected, for request IDs
	stats     map[string]*OpStats
}

// NewFaultProxy starts a FaultProxy that forwards to target (an endpoint
// URL such as Server.Endpoint) and closes it when the test ends.
func NewFaultProxy(t testing.TB, target string, cfg FaultConfig) *FaultProxy {
	t.Helper()
	p, err := newFaultProxy(target, cfg)
	if err != nil {
		t.Fatalf("ddbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("ddbtest: %v", err)
		}
	})
	return p
}

// newFaultProxy does NewFaultProxy's work.
func newFaultProxy(target string, cfg FaultConfig) (*FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("fault proxy: target %q is not an http(s) URL (err: %v)", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fault proxy: listen: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	tr.DisableCompression = true // responses must stay rewritable
	p := &FaultProxy{
		target:    u,
		ln:        ln,
		transport: tr,
		served:    make(chan struct{}),
		stats:     make(map[string]*OpStats),
	}
	p.SetConfig(cfg)
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln) // returns ErrServerClosed after Close
	}()
	return p, nil
}

// URL returns the proxy's base URL, e.g. "http://127.0.0.1:40123".
func (p *FaultProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close stops the proxy and drops its connections. NewFaultProxy's cleanup
// calls it; calling it earlier simulates an endpoint that went away.
func (p *FaultProxy) Close() error {
	p.closeOnce.Do(func() {
		if err := p.srv.Close(); err != nil {
			p.closeErr = fmt.Errorf("close fault proxy %s: %w", p.URL(), err)
		}
		<-p.served
		p.transport.CloseIdleConnections()
	})
	return p.closeErr
}

// SetConfig replaces the configuration and reseeds the random source from
// cfg.Seed. Counters are kept.
func (p *FaultProxy) SetConfig(cfg FaultConfig) {
	cfg.Ops = slices.Clone(cfg.Ops)
	cfg.ThrottleBodies = maps.Clone(cfg.ThrottleBodies)
	cfg.Respond = maps.Clone(cfg.Respond)
	var ops map[string]bool
	if len(cfg.Ops) > 0 {
		ops = make(map[string]bool, len(cfg.Ops))
		for _, op := range cfg.Ops {
			ops[op] = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = cfg
	p.ops = ops
	p.rng = mrand.New(mrand.NewPCG(uint64(cfg.Seed), 0x6661756c74))
}

// Stats returns a snapshot of the counters.
func (p *FaultProxy) Stats() FaultStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := FaultStats{Ops: make(map[string]OpStats, len(p.stats))}
	for op, st := range p.stats {
		s.Ops[op] = *st
	}
	return s
}

// Operations returns the distinct operations (X-Amz-Target suffixes) the
// proxy received, faulted or not, sorted.
func (p *FaultProxy) Operations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ops []string
	for op := range p.stats {
		if op != "" {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	return ops
}

// fault is the kind of fault decided for one request.
type fault int

// The faults, in the order their probabilities are laid out.
const (
	faultNone fault = iota
	faultThrottle
	fault500
	fault503
	faultDrop
	faultLost
)

// plan is what the proxy does with one request, decided under the lock.
type plan struct {
	op      string
	latency time.Duration
	fault   fault
	errType string // __type of an injected error
	body    []byte // the whole body of an injected throttle, if given
	reqID   string // x-amzn-RequestId of an injected response
	split   *split // non-nil for a partial batch
	// respond, if set, answers the request (FaultConfig.Respond).
	respond func() (int, []byte)
}

// split is a batch request cut in two: body is forwarded, withheld goes
// back as unprocessed.
type split struct {
	body     []byte                                // the request body to forward
	withheld map[string][]json.RawMessage          // table -> write requests or keys not sent
	entries  map[string]map[string]json.RawMessage // BatchGetItem: table -> its request fields
	count    int                                   // entries withheld
}

// ServeHTTP handles one request: it reads it, decides its fault and then
// answers it, drops it or forwards it.
func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "fault proxy: read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	pl := p.decide(operation(r.Header.Get("X-Amz-Target")), body)
	if pl.latency > 0 {
		t := time.NewTimer(pl.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if pl.respond != nil {
		status, out := pl.respond()
		writeBody(w, status, pl.reqID, out)
		return
	}
	switch pl.fault {
	case faultThrottle:
		if pl.body != nil {
			writeBody(w, http.StatusBadRequest, pl.reqID, pl.body)
			return
		}
		msg := "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API. (injected by ddbtest)"
		if strings.HasSuffix(pl.errType, "#ThrottlingException") {
			msg = "Rate of requests exceeds the allowed throughput. (injected by ddbtest)"
		}
		writeError(w, http.StatusBadRequest, pl.reqID, pl.errType, msg)
	case fault500:
		writeError(w, http.StatusInternalServerError, pl.reqID, pl.errType, "Internal server error (injected by ddbtest)")
	case fault503:
		writeError(w, http.StatusServiceUnavailable, pl.reqID, pl.errType, "Service unavailable (injected by ddbtest)")
	case faultDrop:
		dropConnection(w)
	case faultLost:
		rec := httptest.NewRecorder()
		p.forward(rec, r, body, pl)
		writeError(w, http.StatusInternalServerError, pl.reqID, pl.errType, "Internal server error after the request was done (answer lost, injected by ddbtest)")
	default:
		p.forward(w, r, body, pl)
	}
}

// operation returns the operation of an X-Amz-Target header such as
// "DynamoDB_20120810.BatchWriteItem".
func operation(target string) string {
	return target[strings.LastIndexByte(target, '.')+1:]
}

// decide counts the request and draws its fault.
func (p *FaultProxy) decide(op string, body []byte) plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stats[op]
	if st == nil {
		st = new(OpStats)
		p.stats[op] = st
	}
	st.Calls++
	pl := plan{op: op}
	if f := p.cfg.Respond[op]; f != nil && op != "" {
		st.Responded++
		p.injected++
		pl.respond, pl.reqID = f, fmt.Sprintf("DDBTESTFAULT%08d", p.injected)
		return pl
	}
	if op == "" || p.ops != nil && !p.ops[op] {
		return pl
	}
	cfg := p.cfg
	if cfg.Latency > 0 {
		pl.latency = time.Duration(p.rng.Int64N(int64(cfg.Latency) + 1))
	}
	u := p.rng.Float64()
	switch {
	case cfg.FailAll || u < cfg.Throttle:
		pl.fault = faultThrottle
		pl.errType = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
		if p.throttles%2 == 1 {
			pl.errType = "com.amazon.coral.availability#ThrottlingException"
		}
		p.throttles++
		st.Throttles++
		pl.body = cfg.ThrottleBodies[op]
	case u < cfg.Throttle+cfg.Error500:
		pl.fault, pl.errType = fault500, "com.amazonaws.dynamodb.v20120810#InternalServerError"
		st.Errors500++
	case u < cfg.Throttle+cfg.Error500+cfg.Error503:
		pl.fault, pl.errType = fault503, "com.amazon.coral.availability#ServiceUnavailableException"
		st.Errors503++
	case u < cfg.Throttle+cfg.Error500+cfg.Error503+cfg.Drop:
		pl.fault = faultDrop
		st.Drops++
	case u < cfg.Throttle+cfg.Error500+cfg.Error503+cfg.Drop+cfg.LoseAnswer:
		pl.fault, pl.errType = faultLost, "com.amazonaws.dynamodb.v20120810#InternalServerError"
		st.Lost++
	}
	if pl.fault != faultNone {
		p.injected++
		pl.reqID = fmt.Sprintf("DDBTESTFAULT%08d", p.injected)
		return pl
	}
	if cfg.Partial > 0 && (op == "BatchWriteItem" || op == "BatchGetItem") && p.rng.Float64() < cfg.Partial {
		pl.split = splitBatch(p.rng, op, body) // nil when it cannot be split
	}
	return pl
}

// splitBatch cuts a BatchWriteItem or BatchGetItem body into a forwarded
// part and a withheld part, choosing a random non-empty strict subset of
// its entries to forward. It returns nil when the body cannot be parsed or
// has fewer than two entries.
func splitBatch(rng *mrand.Rand, op string, body []byte) *split {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	// Per table: the entries (write requests or keys), and for
	// BatchGetItem the table's other request fields.
	perTable := make(map[string][]json.RawMessage)
	fields := make(map[string]map[string]json.RawMessage)
	if op == "BatchWriteItem" {
		if json.Unmarshal(top["RequestItems"], &perTable) != nil {
			return nil
		}
	} else {
		if json.Unmarshal(top["RequestItems"], &fields) != nil {
			return nil
		}
		for table, f := range fields {
			var keys []json.RawMessage
			if json.Unmarshal(f["Keys"], &keys) != nil {
				return nil
			}
			perTable[table] = keys
		}
	}
	type ref struct {
		table string
		i     int
	}
	var all []ref
	for _, table := range slices.Sorted(maps.Keys(perTable)) {
		for i := range perTable[table] {
			all = append(all, ref{table, i})
		}
	}
	if len(all) < 2 {
		return nil
	}
	send := make(map[ref]bool)
	for _, j := range rng.Perm(len(all))[:1+rng.IntN(len(all)-1)] {
		send[all[j]] = true
	}
	kept := make(map[string][]json.RawMessage)
	withheld := make(map[string][]json.RawMessage)
	for _, r := range all {
		e := perTable[r.table][r.i]
		if send[r] {
			kept[r.table] = append(kept[r.table], e)
		} else {
			withheld[r.table] = append(withheld[r.table], e)
		}
	}

	var items any = kept
	if op == "BatchGetItem" {
		req := make(map[string]map[string]json.RawMessage, len(kept))
		for table, keys := range kept {
			req[table] = withEntries(fields[table], "Keys", keys)
		}
		items = req
	}
	ri, err := marshalJSON(items)
	if err != nil {
		return nil
	}
	top["RequestItems"] = ri
	out, err := marshalJSON(top)
	if err != nil {
		return nil
	}
	return &split{body: out, withheld: withheld, entries: fields, count: len(all) - len(send)}
}

// withEntries returns a copy of fields with field set to entries.
func withEntries(fields map[string]json.RawMessage, field string, entries []json.RawMessage) map[string]json.RawMessage {
	out := maps.Clone(fields)
	if out == nil {
		out = make(map[string]json.RawMessage, 1)
	}
	b, _ := marshalJSON(entries) // raw messages from a parsed body always marshal
	out[field] = b
	return out
}

// marshalJSON encodes v without escaping <, > and &.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// forward sends the request (or its forwarded part) to the target and
// copies the answer back, merging withheld entries into a partial batch's
// response.
func (p *FaultProxy) forward(w http.ResponseWriter, r *http.Request, body []byte, pl plan) {
	if pl.split != nil {
		body = pl.split.body
	}
	out, err := p.outgoing(r, body)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	p.count(pl.op, func(s *OpStats) { s.Forwarded++ })
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		if r.Context().Err() == nil {
			http.Error(w, "fault proxy: forward: "+err.Error(), http.StatusBadGateway)
		}
		return
	}
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)

	p.mu.Lock()
	rewrite := p.cfg.Rewrite
	p.mu.Unlock()
	switch {
	case rewrite != nil && pl.split == nil && resp.StatusCode == http.StatusOK:
		respBody, err := readBody(resp)
		if err != nil {
			http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		writeResponse(w, resp, rewrite(pl.op, respBody))
	case pl.split == nil || resp.StatusCode != http.StatusOK:
		// Unchanged. A failed partial batch is honest too: the client
		// learns that nothing of it may have been done.
		copyHeader(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	default:
		p.answerPartial(w, resp, pl)
	}
}

// outgoing returns the request to send to the target for r, with body.
func (p *FaultProxy) outgoing(r *http.Request, body []byte) (*http.Request, error) {
	u := *p.target
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	u.RawPath = ""
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	removeHopHeaders(out.Header)
	out.Header.Del("Accept-Encoding") // the emulator must answer uncompressed
	out.Header.Del("Content-Length")
	out.ContentLength = int64(len(body))
	return out, nil
}

// answerPartial answers a partial batch whose forwarded part succeeded
// (resp): its response with the withheld entries merged in as unprocessed.
func (p *FaultProxy) answerPartial(w http.ResponseWriter, resp *http.Response, pl plan) {
	respBody, err := readBody(resp)
	if err == nil {
		respBody, err = mergeUnprocessed(pl.op, respBody, pl.split)
	}
	if err != nil {
		// The forwarded part may have been applied but the client
		// cannot be told which entries were withheld: fail the whole
		// call, which the client retries whole.
		p.mu.Lock()
		p.injected++
		reqID := fmt.Sprintf("DDBTESTFAULT%08d", p.injected)
		p.mu.Unlock()
		writeError(w, http.StatusInternalServerError, reqID, "com.amazonaws.dynamodb.v20120810#InternalServerError",
			"fault proxy: cannot merge unprocessed entries: "+err.Error())
		return
	}
	p.count(pl.op, func(s *OpStats) {
		s.Partials++
		s.Unprocessed += int64(pl.split.count)
	})
	writeResponse(w, resp, respBody)
}

// writeResponse writes resp's status and headers with body in place of
// its own (decoded: no Content-Encoding).
func writeResponse(w http.ResponseWriter, resp *http.Response, body []byte) {
	resp.Header.Del("Content-Encoding")
	copyHeader(w.Header(), resp.Header)
	setBodyHeaders(w.Header(), body)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// count applies f to op's counters under the lock.
func (p *FaultProxy) count(op string, f func(*OpStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p.stats[op]) // decide created it
}

// readBody reads a response body, decompressing gzip.
func readBody(resp *http.Response) ([]byte, error) {
	var r io.Reader = resp.Body
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return b, nil
}

// mergeUnprocessed adds the withheld entries to the UnprocessedItems or
// UnprocessedKeys of a batch response.
func mergeUnprocessed(op string, body []byte, sp *split) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("parse %s response: %w", op, err)
	}
	if top == nil {
		top = make(map[string]json.RawMessage)
	}
	var merged any
	if op == "BatchWriteItem" {
		unprocessed := make(map[string][]json.RawMessage)
		if err := unmarshalOptional(top["UnprocessedItems"], &unprocessed); err != nil {
			return nil, fmt.Errorf("parse UnprocessedItems: %w", err)
		}
		for table, reqs := range sp.withheld {
			unprocessed[table] = append(unprocessed[table], reqs...)
		}
		merged = unprocessed
	} else {
		unprocessed := make(map[string]map[string]json.RawMessage)
		if err := unmarshalOptional(top["UnprocessedKeys"], &unprocessed); err != nil {
			return nil, fmt.Errorf("parse UnprocessedKeys: %w", err)
		}
		for table, keys := range sp.withheld {
			entry, ok := unprocessed[table]
			if !ok {
				unprocessed[table] = withEntries(sp.entries[table], "Keys", keys)
				continue
			}
			var have []json.RawMessage
			if err := unmarshalOptional(entry["Keys"], &have); err != nil {
				return nil, fmt.Errorf("parse UnprocessedKeys of %s: %w", table, err)
			}
			unprocessed[table] = withEntries(entry, "Keys", append(have, keys...))
		}
		merged = unprocessed
	}
	b, err := marshalJSON(merged)
	if err != nil {
		return nil, fmt.Errorf("encode %s response: %w", op, err)
	}
	field := "UnprocessedItems"
	if op == "BatchGetItem" {
		field = "UnprocessedKeys"
	}
	top[field] = b
	return marshalJSON(top)
}

// unmarshalOptional decodes raw into v unless it is absent or null.
func unmarshalOptional(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// writeError writes a DynamoDB JSON error response.
func writeError(w http.ResponseWriter, status int, reqID, errType, msg string) {
	body, err := marshalJSON(map[string]string{"__type": errType, "message": msg})
	if err != nil {
		body = []byte(`{"__type":"` + errType + `"}`)
	}
	writeBody(w, status, reqID, body)
}

// writeBody writes a given DynamoDB JSON body (an error's, or a
// FaultConfig.Respond answer).
func writeBody(w http.ResponseWriter, status int, reqID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", reqID)
	setBodyHeaders(h, body)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setBodyHeaders sets Content-Length and the X-Amz-Crc32 checksum the SDK
// verifies for body.
func setBodyHeaders(h http.Header, body []byte) {
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
}

// dropConnection closes the client's connection with a reset and without
// an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Cannot hijack (HTTP/2): abort the response instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// removeHopHeaders removes the hop-by-hop headers a proxy must not pass on.
func removeHopHeaders(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
		h.Del(name)
	}
}

// copyHeader adds every header of src to dst.
func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
}
