package copier

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/journalfmt"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
)

// TestJournalResumedAfterTornTail resumes a copy whose journal ends in a
// line torn by kill -9: the resumed copy cuts it, says so, and undo reads
// the whole journal.
func TestJournalResumedAfterTornTail(t *testing.T) {
	ctx := context.Background()
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	whole := string(journalfmt.EncodeHeader("main", []string{"pk"}, time.Now())) +
		`{"key":{"pk":{"S":"k1"}},"before":null}` + "\n" +
		`{"key":{"pk":{"S":"k2"}},"before":{"pk":{"S":"k2"},"v":{"N":"1"}}}` + "\n"
	torn := `{"key":{"pk":{"S":"k3"}},"before":{"pk":{"S":"k3"},"v":{"N":"12`
	path := filepath.Join(t.TempDir(), "j.jsonl")
	if err := os.WriteFile(path, []byte(whole+torn), 0o600); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	j, err := openJournal(ctx, &statefile.Store{}, path, "main", []string{"pk"}, time.Now(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]map[string]types.AttributeValue{
		`{"pk":{"S":"k3"}}`: {"pk": &types.AttributeValueMemberS{Value: "k3"}, "v": &types.AttributeValueMemberN{Value: "7"}},
	}
	if err := j.record([]map[string]types.AttributeValue{key("k3"), key("k4")}, before, make([]map[string]types.AttributeValue, 2)); err != nil {
		t.Fatal(err)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "cut a torn last line") || !strings.Contains(logs.String(), "bytes="+strconv.Itoa(len(torn))) {
		t.Errorf("no warning about the %d bytes cut:\n%s", len(torn), logs.String())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), whole+`{"key":{"pk":{"S":"k3"}},"before":{"pk":{"S":"k3"},"v":{"N":"7"}},"after":null}`+"\n") {
		t.Errorf("journal after the resumed copy:\n%s", data)
	}

	u, err := PrepareUndo(ctx, newFake(0), UndoOptions{Options: Options{Journal: path, To: "main"}})
	if err != nil {
		t.Fatalf("undo refuses the journal: %v", err)
	}
	defer u.cleanup()
	if u.Records() != 4 {
		t.Errorf("undo reads %d records, want 4", u.Records())
	}
}
