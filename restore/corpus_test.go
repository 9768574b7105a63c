package restore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// corpusClient is the real DynamoDB client talking to a server that
// answers each operation of files with that file of testdata/aws (see
// PROVENANCE.md there), and DescribeTable with ResourceNotFoundException
// (the recovery table does not exist yet).
func corpusClient(t *testing.T, files map[string]string) *dynamodb.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if op == "DescribeTable" {
			w.WriteHeader(400)
			w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found: Table: x not found"}`))
			return
		}
		body, err := os.ReadFile("testdata/aws/" + files[op])
		if files[op] == "" || err != nil {
			w.WriteHeader(400)
			w.Write([]byte(`{"__type":"com.amazon.coral.validate#ValidationException","message":"not in the corpus: ` + op + `"}`))
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return dynamodb.New(dynamodb.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
	})
}

var corpusSource = &types.TableDescription{
	TableName: aws.String("MusicCollection"),
	TableArn:  aws.String("arn:aws:dynamodb:us-west-2:123456789012:table/MusicCollection"),
}

// TestCorpusDescribeBackup: what restore reads of a DescribeBackup
// response as DynamoDB writes it — status, source table, creation time
// (the restore point), indexes — accepts an AVAILABLE backup of the table
// and refuses one still CREATING.
func TestCorpusDescribeBackup(t *testing.T) {
	arn := "arn:aws:dynamodb:us-west-2:123456789012:table/MusicCollection/backup/01576616366715-b4e58d3a"
	c := corpusClient(t, map[string]string{"DescribeBackup": "describe-backup.json"})
	p, err := Prepare(context.Background(), c, Options{Table: "MusicCollection", Point: Point{Backup: arn}, Indexes: "AlbumTitleIndex", Described: corpusSource})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.UnixMilli(1576616366715).UTC(); !p.RestorePoint().Equal(want) || p.BackupARN() != arn {
		t.Errorf("restore point %v, backup %s; want %v", p.RestorePoint(), p.BackupARN(), want)
	}
	if gsi, _, err := p.indexOverrides(); err != nil || len(gsi) != 1 || aws.ToString(gsi[0].IndexName) != "AlbumTitleIndex" {
		t.Errorf("indexes %+v, %v", gsi, err)
	}
	c = corpusClient(t, map[string]string{"DescribeBackup": "describe-backup-creating.json"})
	_, err = Prepare(context.Background(), c, Options{Table: "MusicCollection", Point: Point{Backup: arn}, Described: corpusSource})
	if !usage.Is(err) || !strings.Contains(err.Error(), "is CREATING, not AVAILABLE") {
		t.Fatalf("Prepare = %v; want the backup refused as CREATING", err)
	}
}

// TestCorpusDescribeContinuousBackups: the restorable window and status
// are read from DescribeContinuousBackups as DynamoDB writes it.
func TestCorpusDescribeContinuousBackups(t *testing.T) {
	earliest := time.Unix(1576622404, 0).UTC()
	c := corpusClient(t, map[string]string{"DescribeContinuousBackups": "describe-continuous-backups.json"})
	p, err := Prepare(context.Background(), c, Options{Table: "MusicCollection", Point: Point{At: earliest.Add(time.Hour)}, Described: corpusSource})
	if err != nil {
		t.Fatal(err)
	}
	if !p.earliest.Equal(earliest) || !p.latest.Equal(earliest.Add(72*time.Hour)) || !p.RestorePoint().Equal(earliest.Add(time.Hour)) {
		t.Errorf("window [%v, %v], point %v", p.earliest, p.latest, p.RestorePoint())
	}
	_, err = Prepare(context.Background(), c, Options{Table: "MusicCollection", Point: Point{At: earliest.Add(-time.Second)}, Described: corpusSource})
	if !usage.Is(err) || !strings.Contains(err.Error(), "outside the restorable window") {
		t.Fatalf("Prepare = %v; want the time refused", err)
	}
	c = corpusClient(t, map[string]string{"DescribeContinuousBackups": "describe-continuous-backups-disabled.json"})
	_, err = Prepare(context.Background(), c, Options{Table: "MusicCollection", Point: Point{Latest: true}, Described: corpusSource})
	if !usage.Is(err) || !strings.Contains(err.Error(), "point-in-time recovery is not enabled") {
		t.Fatalf("Prepare = %v; want PITR disabled refused", err)
	}
}

// TestCorpusRestorableWindowRefusals: a time outside the restorable window
// of a DescribeContinuousBackups response as DynamoDB writes it (with its
// RecoveryPeriodInDays) is refused naming both ends, the period and which
// end it missed; a time after now is called "in the future".
func TestCorpusRestorableWindowRefusals(t *testing.T) {
	earliest := time.Unix(1576622404, 0).UTC()
	latest := time.Unix(1576881604, 0).UTC()
	now := latest.Add(5 * time.Minute)
	const window = "[2019-12-17T22:40:04Z, 2019-12-20T22:40:04Z] (recovery period: 35 days)"
	tests := []struct {
		name  string
		point Point
		want  string
	}{
		{"before the earliest end", Point{At: earliest.Add(-time.Second)},
			"restore MusicCollection: 2019-12-17T22:40:03Z is outside the restorable window " + window + ", before its earliest end: pick a time inside it, or restore from a backup with --backup-before 2019-12-17T22:40:03Z"},
		{"--ago beyond the period", Point{Ago: 36 * 24 * time.Hour},
			"restore MusicCollection: 2019-11-14T22:45:04Z is outside the restorable window " + window + ", before its earliest end: pick a time inside it, or restore from a backup with --backup-before 2019-11-14T22:45:04Z"},
		{"after the latest end", Point{At: latest.Add(time.Minute)},
			"restore MusicCollection: 2019-12-20T22:41:04Z is outside the restorable window " + window + ", after its latest end (which trails now by a few minutes): pick a time inside it, or --latest"},
		{"in the future", Point{At: now.Add(time.Hour)},
			"restore MusicCollection: 2019-12-20T23:45:04Z is in the future (it is now 2019-12-20T22:45:04Z): the restorable window is " + window + ", ending a few minutes ago: pick a time inside it, or --latest"},
	}
	c := corpusClient(t, map[string]string{"DescribeContinuousBackups": "describe-continuous-backups.json"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Prepare(context.Background(), c, Options{Table: "MusicCollection", Point: tt.point, Described: corpusSource, Now: func() time.Time { return now }})
			if !usage.Is(err) || err.Error() != tt.want {
				t.Fatalf("Prepare = %v\nwant %s", err, tt.want)
			}
		})
	}
}
