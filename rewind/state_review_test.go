package rewind

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// TestLoadStateRefusesOtherFiles: a file given as --state that is not a
// ddbrewind run state (not JSON, another version, or JSON without the
// version, such as another tool's file) is refused as bad usage, not
// taken for a rewind at its first step.
func TestLoadStateRefusesOtherFiles(t *testing.T) {
	for _, content := range []string{"not json", `{"version":2,"table":"orders","step":"copy"}`, `{"table":"orders","step":"copy"}`, `{}`} {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := loadState(context.Background(), &statefile.Store{}, path)
		if !usage.Is(err) || st != nil {
			t.Errorf("loadState(%s) = %+v, %v; want a usage error", content, st, err)
		}
	}
}
