package main

import (
	"maps"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// tableDiff is the result of comparing a table with its restore point.
type tableDiff struct {
	// Items is the number of items at the restore point.
	Items int
	// Changed, Missing and Extra count the items that differ in at least
	// one attribute, that are gone, and that were not there.
	Changed, Missing, Extra int
	// Lines describe the first differences, attribute by attribute.
	Lines []string
}

// Equal reports whether the tables hold the same items.
func (d tableDiff) Equal() bool { return d.Changed == 0 && d.Missing == 0 && d.Extra == 0 }

// compareItems compares every item of want (the restore point) with got,
// attribute by attribute: numbers as their exact strings, binaries as bytes,
// sets in any order, lists in order, maps recursively.
func compareItems(want, got map[string]item) tableDiff {
	d := tableDiff{Items: len(want)}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			d.Missing++
		case !maps.EqualFunc(w, g, ddbtest.EqualValue):
			d.Changed++
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d.Extra++
		}
	}
	if !d.Equal() {
		d.Lines = ddbtest.DiffItemSets(want, got)
	}
	return d
}
