package copier

import (
	"context"
	"slices"
	"testing"
)

// TestDiffCountsAreTheLedgers: a diff's result counts what the ledger
// counted in the live Stats during the diff — the same numbers, from one
// counting place, even when the Stats carry counts from before — and
// lists at most show keys of each kind, sorted.
func TestDiffCountsAreTheLedgers(t *testing.T) {
	be := memBackend()
	from, to := be.create(t, "rec"), be.create(t, "main")
	// rec: k000-k029; main: k000-k009 equal, k010-k014 changed, x00-x03 extra.
	src, main := confTables(30, 10, 5, 4)
	be.put(t, from, src)
	be.put(t, to, main)

	stats := &Stats{}
	stats.Identical.Store(1000) // an earlier run's counts
	stats.ExtraInMain.Store(7)
	p, err := PrepareDiff(context.Background(), be.api, DiffOptions{Options: Options{From: from, To: to, Segments: 2, PageSize: 4, Stats: stats}})
	if err != nil {
		t.Fatal(err)
	}
	const show = 3
	d, err := p.Diff(context.Background(), be.api, show)
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{d.Identical, d.Different, d.MissingInMain, d.ExtraInMain}
	if want := []int64{10, 5, 15, 4}; !slices.Equal(got, want) {
		t.Errorf("identical, different, missing, extra = %v, want %v", got, want)
	}
	s := stats.Snapshot()
	if ledger := []int64{s.Identical - 1000, s.Different, s.MissingInMain, s.ExtraInMain - 7}; !slices.Equal(got, ledger) {
		t.Errorf("the result counts %v, the ledger (Stats) %v", got, ledger)
	}
	for _, keys := range [][]string{d.DifferentKeys, d.MissingKeys, d.ExtraKeys} {
		if len(keys) != show || !slices.IsSorted(keys) {
			t.Errorf("listed keys %v: want %d, sorted", keys, show)
		}
	}
}
