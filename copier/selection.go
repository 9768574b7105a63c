package copier

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Selection says which items of the recovery table a copy or diff covers.
// The zero value selects the whole table.
type Selection struct {
	// KeyCondition reads with Query instead of Scan, so the items read
	// follow the slice, not the table.
	KeyCondition string
	// Filter is applied server-side to the Scan or Query.
	Filter string
	// Names and Values are the expressions' placeholders (#n, :v).
	Names  map[string]string
	Values map[string]types.AttributeValue
	// KeysFile is a JSON Lines file of primary keys: exactly those items
	// are selected (BatchGetItem).
	KeysFile string
}

var (
	namePH  = regexp.MustCompile(`#[A-Za-z0-9_]+`)
	valuePH = regexp.MustCompile(`:[A-Za-z0-9_]+`)
)

// placeholders returns the names and values that the expressions use,
// taken from s: DynamoDB rejects a request with unused placeholders.
func (s Selection) placeholders(exprs ...string) (map[string]string, map[string]types.AttributeValue) {
	var names map[string]string
	var values map[string]types.AttributeValue
	for _, e := range exprs {
		for _, n := range namePH.FindAllString(e, -1) {
			if v, ok := s.Names[n]; ok {
				if names == nil {
					names = map[string]string{}
				}
				names[n] = v
			}
		}
		for _, n := range valuePH.FindAllString(e, -1) {
			if v, ok := s.Values[n]; ok {
				if values == nil {
					values = map[string]types.AttributeValue{}
				}
				values[n] = v
			}
		}
	}
	return names, values
}

// validate checks the selection's own consistency: exclusive options,
// every placeholder used is defined and every defined one is used by some
// expression (extra lists the other expressions, e.g. --if-main).
func (s Selection) validate(extra ...string) error {
	if s.KeysFile != "" && (s.KeyCondition != "" || s.Filter != "") {
		return usage.Errorf("--keys-file selects exact keys: it cannot be combined with --key-condition-expression or --filter-expression")
	}
	exprs := append([]string{s.KeyCondition, s.Filter}, extra...)
	all := strings.Join(exprs, " ")
	for _, n := range namePH.FindAllString(all, -1) {
		if _, ok := s.Names[n]; !ok {
			return usage.Errorf("expression placeholder %s is not defined: add it to --expression-attribute-names, e.g. '{\"%s\":\"attributeName\"}'", n, n)
		}
	}
	for _, n := range valuePH.FindAllString(all, -1) {
		if _, ok := s.Values[n]; !ok {
			return usage.Errorf("expression placeholder %s is not defined: add it to --expression-attribute-values, e.g. '{\"%s\":{\"S\":\"value\"}}'", n, n)
		}
	}
	used := map[string]bool{}
	for _, n := range namePH.FindAllString(all, -1) {
		used[n] = true
	}
	for _, n := range valuePH.FindAllString(all, -1) {
		used[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(s.Names)) {
		if !used[n] {
			return usage.Errorf("--expression-attribute-names defines %s but no expression uses it: remove it or fix the expression", n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(s.Values)) {
		if !used[n] {
			return usage.Errorf("--expression-attribute-values defines %s but no expression uses it: remove it or fix the expression", n)
		}
	}
	return nil
}

// describe returns a stable text form of the selection, for fingerprints.
func (s Selection) describe() string {
	var b strings.Builder
	b.WriteString("kce=" + s.KeyCondition + "\nfilter=" + s.Filter + "\nkeys=" + s.KeysFile + "\n")
	for _, n := range slices.Sorted(maps.Keys(s.Names)) {
		b.WriteString("name " + n + "=" + s.Names[n] + "\n")
	}
	for _, n := range slices.Sorted(maps.Keys(s.Values)) {
		b.WriteString("value " + n + "=" + ddbjson.KeyString(map[string]types.AttributeValue{"v": s.Values[n]}) + "\n")
	}
	return b.String()
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// SelectionID is a short stable identifier of a selection.
func SelectionID(s Selection) string { return hash(s.describe()) }
