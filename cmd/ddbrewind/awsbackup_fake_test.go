package main

// moto does not implement AWS Backup's restore jobs (its backup service
// knows plans and vaults, not StartRestoreJob or DescribeRestoreJob), so
// the AWS Backup path is tested against this recording fake of the three
// AWS Backup operations ddbrewind calls, speaking their REST-JSON protocol.
// The DynamoDB side stays real: a recovery point of the fake stands for a
// DynamoDB backup made in moto with CreateBackup, and when the fake's job
// completes it restores that backup in moto with RestoreTableFromBackup, so
// the recovery table appears with the backed-up items and a RestoreSummary,
// as a table AWS Backup restored would.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// fakeRecoveryPoint is one recovery point the fake knows.
type fakeRecoveryPoint struct {
	arn      string // arn:aws:backup:…:recovery-point:…
	tableARN string // the protected table (as DynamoDB names it)
	backup   string // the moto DynamoDB backup it stands for
	created  time.Time
	status   string // COMPLETED unless set
}

// fakeBackupCall is one AWS Backup request the fake received.
type fakeBackupCall struct {
	op       string // StartRestoreJob, DescribeRestoreJob, ListRecoveryPointsByResource
	resource string // the recovery point, restore job or protected resource ARN
	// StartRestoreJob's request.
	start struct {
		RecoveryPointArn string
		IamRoleArn       string
		IdempotencyToken string
		ResourceType     string
		Metadata         map[string]string
	}
	// service is the signing name of the request's SigV4 credential scope.
	service string
}

// fakeAWSBackup is an httptest server for AWS_ENDPOINT_URL_BACKUP.
type fakeAWSBackup struct {
	srv    *httptest.Server
	dynamo *dynamodb.Client
	// runningPolls is how many DescribeRestoreJob answers say RUNNING
	// before the job completes.
	runningPolls int
	// failJobs, when set, makes every job FAILED with this status message
	// once its RUNNING polls are over (cleared, the job completes).
	failJobs string

	mu     sync.Mutex
	points []fakeRecoveryPoint
	jobs   map[string]*fakeJob // by id
	tokens map[string]string   // idempotency token → job id
	calls  []fakeBackupCall
	errs   []string
}

type fakeJob struct {
	id, target string
	point      fakeRecoveryPoint
	polls      int
	createdARN string
}

func newFakeAWSBackup(t *testing.T, dynamo *dynamodb.Client) *fakeAWSBackup {
	t.Helper()
	f := &fakeAWSBackup{dynamo: dynamo, runningPolls: 1, jobs: map[string]*fakeJob{}, tokens: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, e := range f.errs {
			t.Errorf("fake AWS Backup: %s", e)
		}
	})
	return f
}

// URL is the value for AWS_ENDPOINT_URL_BACKUP.
func (f *fakeAWSBackup) URL() string { return f.srv.URL }

// addPoint registers a recovery point.
func (f *fakeAWSBackup) addPoint(p fakeRecoveryPoint) {
	if p.status == "" {
		p.status = "COMPLETED"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.points = append(f.points, p)
}

// Calls returns the requests so far.
func (f *fakeAWSBackup) Calls() []fakeBackupCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeBackupCall(nil), f.calls...)
}

// count returns how many requests of op the fake received.
func (f *fakeAWSBackup) count(op string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.op == op {
			n++
		}
	}
	return n
}

func (f *fakeAWSBackup) fail(w http.ResponseWriter, status int, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": msg})
}

func (f *fakeAWSBackup) reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAWSBackup) serve(w http.ResponseWriter, r *http.Request) {
	call := fakeBackupCall{}
	if auth := r.Header.Get("Authorization"); strings.Contains(auth, "Credential=") {
		// Credential=AKID/DATE/REGION/SERVICE/aws4_request
		if parts := strings.Split(strings.SplitN(strings.SplitN(auth, "Credential=", 2)[1], ",", 2)[0], "/"); len(parts) == 5 {
			call.service = parts[3]
		}
	}
	path := r.URL.EscapedPath()
	f.mu.Lock()
	defer f.mu.Unlock()
	record := func() { f.calls = append(f.calls, call) }
	switch {
	case r.Method == http.MethodPut && path == "/restore-jobs":
		call.op = "StartRestoreJob"
		if err := json.NewDecoder(r.Body).Decode(&call.start); err != nil {
			f.fail(w, 400, "InvalidParameterValueException", "bad body: %v", err)
			return
		}
		call.resource = call.start.RecoveryPointArn
		record()
		var point *fakeRecoveryPoint
		for i := range f.points {
			if f.points[i].arn == call.start.RecoveryPointArn {
				point = &f.points[i]
			}
		}
		target := call.start.Metadata["targetTableName"]
		switch {
		case point == nil:
			f.fail(w, 400, "ResourceNotFoundException", "no recovery point %s", call.start.RecoveryPointArn)
			return
		case call.start.IamRoleArn == "" || call.start.ResourceType != "DynamoDB" || target == "":
			f.errs = append(f.errs, fmt.Sprintf("StartRestoreJob without IamRoleArn, ResourceType DynamoDB or Metadata targetTableName: %+v", call.start))
			f.fail(w, 400, "InvalidParameterValueException", "IamRoleArn, ResourceType and Metadata.targetTableName are required")
			return
		}
		if id, ok := f.tokens[call.start.IdempotencyToken]; ok && call.start.IdempotencyToken != "" {
			f.reply(w, map[string]string{"RestoreJobId": id}) // the same request again: no new job
			return
		}
		id := fmt.Sprintf("job-%d", len(f.jobs)+1)
		f.jobs[id] = &fakeJob{id: id, target: target, point: *point}
		f.tokens[call.start.IdempotencyToken] = id
		f.reply(w, map[string]string{"RestoreJobId": id})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/restore-jobs/"):
		call.op = "DescribeRestoreJob"
		id, _ := url.PathUnescape(strings.TrimPrefix(path, "/restore-jobs/"))
		call.resource = id
		record()
		job := f.jobs[id]
		if job == nil {
			f.fail(w, 404, "ResourceNotFoundException", "no restore job %s", id)
			return
		}
		job.polls++
		out := map[string]any{"RestoreJobId": id, "RecoveryPointArn": job.point.arn, "ResourceType": "DynamoDB", "Status": "RUNNING", "PercentDone": "50.00%"}
		if job.polls > f.runningPolls && f.failJobs != "" && job.createdARN == "" {
			out["Status"], out["StatusMessage"] = "FAILED", f.failJobs
			f.reply(w, out)
			return
		}
		if job.polls > f.runningPolls {
			if job.createdARN == "" {
				// The job completes: DynamoDB's side, in moto.
				res, err := f.dynamo.RestoreTableFromBackup(context.Background(), &dynamodb.RestoreTableFromBackupInput{
					TargetTableName: aws.String(job.target), BackupArn: aws.String(job.point.backup)})
				if err != nil {
					out["Status"], out["StatusMessage"] = "FAILED", err.Error()
					f.reply(w, out)
					return
				}
				job.createdARN = aws.ToString(res.TableDescription.TableArn)
			}
			out["Status"], out["CreatedResourceArn"], out["PercentDone"] = "COMPLETED", job.createdARN, "100.00%"
		}
		f.reply(w, out)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/resources/") && strings.HasSuffix(path, "/recovery-points"):
		call.op = "ListRecoveryPointsByResource"
		arn, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, "/resources/"), "/recovery-points"))
		call.resource = arn
		record()
		var points []map[string]any
		for _, p := range f.points {
			if p.tableARN == arn {
				// Epoch seconds; the SDK truncates them to milliseconds after
				// a float multiplication, so half a millisecond more keeps
				// the millisecond exact.
				points = append(points, map[string]any{"RecoveryPointArn": p.arn, "Status": p.status, "BackupVaultName": "Default",
					"CreationDate": float64(p.created.UnixMilli())/1e3 + 0.0005, "BackupSizeBytes": 123})
			}
		}
		f.reply(w, map[string]any{"RecoveryPoints": points})
	default:
		f.errs = append(f.errs, fmt.Sprintf("unexpected request %s %s", r.Method, path))
		f.fail(w, 400, "InvalidRequestException", "not faked: %s %s", r.Method, path)
	}
}
