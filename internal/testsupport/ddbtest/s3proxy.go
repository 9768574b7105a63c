package ddbtest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// SerializeConditionalPuts returns the URL of a pass-through proxy to the
// S3 endpoint target that runs one conditional PutObject (If-None-Match)
// at a time, until the test ends. S3 makes a conditional write atomic;
// moto checks and then writes in a threaded server, so two writers racing
// for one key can both "win" there. Behind this proxy a test of a protocol
// that relies on S3's atomicity (the shared S3 journal) sees that protocol,
// not moto's race.
func SerializeConditionalPuts(t testing.TB, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("ddbtest: %v", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.Header.Get("If-None-Match") != "" {
			mu.Lock()
			defer mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
