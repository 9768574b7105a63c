package export

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// corpusServer answers DynamoDB's JSON protocol with the responses of
// testdata/aws (see PROVENANCE.md there): DescribeContinuousBackups,
// ListExports, and DescribeExport of the export its ExportArn names. It
// records the operations asked.
type corpusServer struct {
	t   *testing.T
	mu  sync.Mutex
	ops []string
}

func (s *corpusServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	var in struct{ ExportArn string }
	json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	s.ops = append(s.ops, op)
	s.mu.Unlock()
	file := map[string]string{"DescribeContinuousBackups": "describe-continuous-backups.json", "ListExports": "list-exports.json"}[op]
	if op == "DescribeExport" {
		file = "describe-export-" + in.ExportArn[strings.LastIndexByte(in.ExportArn, '/')+1:] + ".json"
	}
	body, err := os.ReadFile("testdata/aws/" + file)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if file == "" || err != nil {
		w.WriteHeader(400)
		w.Write([]byte(`{"__type":"com.amazon.coral.validate#ValidationException","message":"not in the corpus: ` + op + `"}`))
		return
	}
	w.Write(body)
}

func corpusClient(t *testing.T) (*dynamodb.Client, *corpusServer) {
	s := &corpusServer{t: t}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return dynamodb.New(dynamodb.Options{
		Region:       "eu-north-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
	}), s
}

func at(t *testing.T, s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCorpusAdoptsRealExports: what package export reads of DescribeExport,
// ListExports and DescribeContinuousBackups responses as DynamoDB writes
// them — the responses describing the real exports of the exportfile
// corpus (a full export without ExportType and with a null S3Prefix, two
// chained incremental exports) — lets a retried request adopt them: the
// export's ARN, status, item count, window and directory.
func TestCorpusAdoptsRealExports(t *testing.T) {
	described := &types.TableDescription{TableName: aws.String("test"), TableArn: aws.String("arn:aws:dynamodb:eu-north-1:123456789123:table/test")}
	arn := "arn:aws:dynamodb:eu-north-1:123456789123:table/test/export/"
	t.Run("full", func(t *testing.T) {
		c, srv := corpusClient(t)
		p, err := Prepare(context.Background(), c, Options{Table: "test", At: at(t, "2026-01-14T10:18:50.622Z"), Bucket: "test-1231x1x", Described: described})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tasks) != 1 {
			t.Fatalf("%d tasks", len(p.Tasks))
		}
		task := p.Tasks[0]
		if !task.Adopted || task.ARN != arn+"01768385930622-efd1a093" || task.Status != types.ExportStatusCompleted || task.ItemCount != 3 ||
			task.Directory != "s3://test-1231x1x/AWSDynamoDB/01768385930622-efd1a093/" || !task.At.Equal(at(t, "2026-01-14T10:18:50.622Z")) {
			t.Fatalf("task %+v", task)
		}
		if want := []string{"DescribeContinuousBackups", "ListExports", "DescribeExport"}; strings.Join(srv.ops, ",") != strings.Join(want, ",") {
			t.Errorf("asked %v, want %v (the full export only: ListExports gives the others' type)", srv.ops, want)
		}
	})
	t.Run("incremental", func(t *testing.T) {
		c, _ := corpusClient(t)
		p, err := Prepare(context.Background(), c, Options{Table: "test", Since: at(t, "2026-01-14T10:20:00Z"), Until: at(t, "2026-01-14T10:50:00Z"), Bucket: "test-1231x1x", Described: described})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			id       string
			from, to string
			items    int64
		}{
			{"01768386924000-d339e52d", "2026-01-14T10:20:00Z", "2026-01-14T10:35:00Z", 6},
			{"01768388186000-4a2fc3ff", "2026-01-14T10:35:00Z", "2026-01-14T10:50:00Z", 5},
		}
		if len(p.Tasks) != len(want) {
			t.Fatalf("%d tasks: %+v", len(p.Tasks), p.Tasks)
		}
		for i, w := range want {
			task := p.Tasks[i]
			if !task.Adopted || task.ID() != w.id || task.Status != types.ExportStatusCompleted || task.ItemCount != w.items ||
				!task.Window.From.Equal(at(t, w.from)) || !task.Window.To.Equal(at(t, w.to)) ||
				task.Directory != "s3://test-1231x1x/AWSDynamoDB/"+w.id+"/" {
				t.Errorf("task %d: %+v", i, task)
			}
		}
	})
	t.Run("another prefix adopts nothing", func(t *testing.T) {
		c, _ := corpusClient(t)
		p, err := Prepare(context.Background(), c, Options{Table: "test", At: at(t, "2026-01-14T10:18:50.622Z"), Bucket: "test-1231x1x", Prefix: "p", Described: described})
		if err != nil {
			t.Fatal(err)
		}
		if p.Tasks[0].Adopted || p.Tasks[0].ARN != "" {
			t.Errorf("adopted %+v: the export has no prefix", p.Tasks[0])
		}
	})
}

// TestCorpusRestorableWindowRefusals: --at, --since and --until outside the
// restorable window of a DescribeContinuousBackups response as DynamoDB
// writes it are refused naming both ends, the recovery period and which
// end they missed; a time after now is called "in the future".
func TestCorpusRestorableWindowRefusals(t *testing.T) {
	described := &types.TableDescription{TableName: aws.String("test"), TableArn: aws.String("arn:aws:dynamodb:eu-north-1:123456789123:table/test")}
	now := at(t, "2026-01-14T11:10:00Z")
	const window = "[2026-01-14T09:00:00Z, 2026-01-14T11:05:00Z] (recovery period: 35 days)"
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"--at in the future", func(o *Options) { o.At = now.Add(time.Hour) },
			"export test: --at 2026-01-14T12:10:00Z is in the future (it is now 2026-01-14T11:10:00Z): the restorable window is " + window + ", ending a few minutes ago: pick a time inside it"},
		{"--at after the latest end", func(o *Options) { o.At = now.Add(-time.Minute) },
			"export test: --at 2026-01-14T11:09:00Z is outside the restorable window " + window + ", after its latest end (which trails now by a few minutes): pick a time inside it"},
		{"--since before the earliest end", func(o *Options) { o.Since = at(t, "2026-01-14T08:00:00Z") },
			"export test: --since 2026-01-14T08:00:00Z is outside the restorable window " + window + ", before its earliest end: pick a time inside it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := corpusClient(t)
			o := Options{Table: "test", Bucket: "test-1231x1x", Described: described, Now: func() time.Time { return now }}
			tt.edit(&o)
			_, err := Prepare(context.Background(), c, o)
			if !usage.Is(err) || err.Error() != tt.want {
				t.Fatalf("Prepare = %v\nwant %s", err, tt.want)
			}
		})
	}
}
