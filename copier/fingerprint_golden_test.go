package copier

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/window"
)

// TestFingerprintGolden: the checkpoint fingerprint (hash and description)
// of every write mode (overwrite, --only-missing, --if-main, each with or
// without --delete-extra and --skip-expired; a window rewind with or
// without --overwrite-conflicts) from every kind of source (table, full
// export, incremental window) is the one today's checkpoints carry, byte
// for byte: checkpoints written before keep resuming.
// Regenerate only on purpose: UPDATE_GOLDEN=1 go test ./copier -run TestFingerprintGolden.
func TestFingerprintGolden(t *testing.T) {
	var b strings.Builder
	sources := []string{"table", "export", "window"}
	modes := []struct {
		name string
		set  func(o *Options)
	}{
		{"overwrite", func(o *Options) {}},
		{"only-missing", func(o *Options) { o.OnlyMissing = true }},
		{"if-main", func(o *Options) { o.IfMain = "attribute_exists(#v) AND #v < :v" }},
		{"overwrite-conflicts", func(o *Options) { o.OverwriteConflicts = true }},
		{"accept-conflicts", func(o *Options) { o.AcceptConflicts = true }},
	}
	for _, src := range sources {
		for _, m := range modes {
			for _, deleteExtra := range []bool{false, true} {
				for _, skip := range []bool{false, true} {
					for _, sel := range []Selection{{}, {KeyCondition: "pk = :p", Names: map[string]string{"#v": "v"}}} {
						o := Options{From: "rec", To: "main", Segments: 4, WorkerCount: 1, DeleteExtra: deleteExtra, SkipExpired: skip, Selection: sel}
						m.set(&o)
						p := &Plan{job: &Job{}, opts: o, mode: o.Mode(), past: &tablePast{}}
						switch src {
						case "export":
							o.From = "s3://b/p/AWSDynamoDB/0123-abc/"
							p.opts = o
							p.past = &exportPast{}
						case "window":
							p.past = &windowPast{w: &window.Window{}}
						}
						fp, desc := p.fingerprint()
						fmt.Fprintf(&b, "== %s %s delete-extra=%v skip-expired=%v kce=%q\n%s\n%s\n", src, m.name, deleteExtra, skip, sel.KeyCondition, fp, desc)
					}
				}
			}
		}
	}
	golden := filepath.Join("testdata", "fingerprints.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("fingerprints changed: checkpoints written before would not resume\n--- got\n%s\n--- want\n%s", got, want)
	}
}
