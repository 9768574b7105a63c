// Package csvout writes DynamoDB items as CSV, for show -o csv: a header
// of attribute names, then a row per item with a column per name. A plain
// string, number or boolean is a cell as itself; any other value (binary,
// null, a set, a list, a map) is its typed DynamoDB JSON; an attribute the
// item lacks is an empty cell.
package csvout

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// maxLine bounds one item's line: an item is at most 400 KB, more as JSON.
const maxLine = 4 << 20

// Write reads items from lines, typed DynamoDB JSON one per line (as show
// spools them to learn every attribute name first), and writes them to w
// as CSV: a header of names, sorted, then a row per item in the order
// read. An error writing is wrapped as "write: ..."; a line that is not an
// item is returned as ddbjson reports it.
func Write(w io.Writer, lines io.Reader, names []string) error {
	cols := slices.Sorted(slices.Values(names))
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	sc := bufio.NewScanner(lines)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	row := make([]string, len(cols))
	for sc.Scan() {
		it, err := ddbjson.ParseItem(sc.Bytes())
		if err != nil {
			return err
		}
		for i, c := range cols {
			row[i] = cell(it[c])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// cell is a CSV cell: a plain string, number or boolean as itself,
// anything else as typed DynamoDB JSON, an absent attribute empty.
func cell(v types.AttributeValue) string {
	switch t := v.(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return t.Value
	case *types.AttributeValueMemberN:
		return t.Value
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprint(t.Value)
	}
	data, err := ddbjson.MarshalItem(map[string]types.AttributeValue{"v": v})
	if err != nil {
		return ""
	}
	s := string(data)
	return s[len(`{"v":`) : len(s)-1]
}
