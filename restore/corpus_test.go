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
