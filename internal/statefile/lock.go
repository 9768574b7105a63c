package statefile

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/backoff"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// LeaseAPI is what an S3 lease calls: the store's calls plus DeleteObject
// (to release the lease).
type LeaseAPI interface {
	S3API
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ LeaseAPI = (*s3.Client)(nil)

// DefaultLeaseTTL is how long an S3 lease lasts without being renewed; the
// holder renews it every third of that.
const DefaultLeaseTTL = 2 * time.Minute

// ErrLockLost means an S3 lease was taken over by another run (after it
// expired, or was removed by hand) while its holder was still running.
var ErrLockLost = errors.New("lost the lock of the state file")

// LockOptions configures [Store.Lock].
type LockOptions struct {
	// TTL is the S3 lease's length (default DefaultLeaseTTL).
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Ticks, if set, replaces the renewal ticker of an S3 lease (every
	// TTL/3): each value received renews it. Tests drive it.
	Ticks <-chan time.Time
	// OnLost is called (once, from the renewal goroutine) when an S3 lease
	// is lost: taken over by another run, or expired while its renewals
	// failed. The run should stop: typically a context's cancel.
	OnLost func(error)
	// Host and PID describe this process in the lock (default
	// os.Hostname and os.Getpid).
	Host string
	PID  int
	// WaitHeld, when positive, is how long to wait for an S3 lease that
	// another holder holds to expire before refusing: a retried AWS Batch
	// attempt whose host was lost meets its previous attempt's lease, which
	// lives on until its expiry. The lease is read again when it would
	// expire; one its holder keeps renewing is refused as soon as waiting
	// for it would pass WaitHeld. A local lock is never waited for (its
	// holder's death releases it).
	WaitHeld time.Duration
	// OnWait, if set, is called before each wait for a held lease.
	OnWait func(Holder)
	// Sleep waits d or until ctx ends (default a timer). Tests drive it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Holder is who holds a lock, as the lock file or lease object records it.
type Holder struct {
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// PIDNamespace identifies the PID namespace of PID (Linux), so that a
	// holder is taken for dead only when its PID is looked up in the
	// namespace it belongs to.
	PIDNamespace string    `json:"pid_namespace,omitempty"`
	Started      time.Time `json:"started"`
	// Expires is when an S3 lease ends unless renewed (zero for a local
	// lock, which ends with its process).
	Expires time.Time `json:"expires,omitzero"`
	// Token identifies the holding run.
	Token string `json:"token"`
}

// String describes the holder for messages: host, pid and start time.
func (h Holder) String() string {
	if h.Host == "" && h.PID == 0 {
		return "holder unknown"
	}
	return fmt.Sprintf("host %s, pid %d, since %s", h.Host, h.PID, tables.MessageTime(h.Started))
}

// HeldError refuses a run whose state file another run holds. It is bad
// input (exit 2): nothing was written.
type HeldError struct {
	// State is the state file, Lock the lock file or lease object.
	State, Lock string
	Holder      Holder
	// S3 reports a lease (which can outlive a killed holder until it
	// expires) rather than a local lock (which ends with its process).
	S3 bool
}

// Error says who holds the state file and what to do: wait, or (for an
// S3 lease whose holder is gone) wait for its expiry or remove it.
func (e *HeldError) Error() string {
	if !e.S3 {
		return fmt.Sprintf("state file %s is in use by another ddbrewind run (%s): wait for it to end, then rerun (its lock %s is released when that process exits, even when killed)",
			e.State, e.Holder, e.Lock)
	}
	return fmt.Sprintf("state file %s is in use by another ddbrewind run (%s; its lease %s runs until %s unless renewed): wait for it to end, then rerun; if that process is gone (killed, its container stopped), rerun after %s or remove the lease first: aws s3 rm %s",
		e.State, e.Holder, e.Lock, tables.MessageTimeUp(e.Holder.Expires), tables.MessageTimeUp(e.Holder.Expires), e.Lock)
}

// BadInput marks the refusal as a usage error (exit 2).
func (e *HeldError) BadInput() bool { return true }

// Lock is a held lock on a state file: see [Store.Lock].
type Lock struct {
	loc string
	// local
	f    *os.File
	path string
	// S3
	api            LeaseAPI
	bucket, key    string
	holder         Holder
	etag           string
	kms            string
	o              LockOptions
	stop           chan struct{}
	done           chan struct{}
	mu             sync.Mutex // guards etag and holder.Expires
	releaseOnce    sync.Once
	stopOnce       sync.Once
	releaseErr     error
	lostOnce       sync.Once
	renewalStarted bool
}

// LockPath is the lock of state file loc: loc + ".lock" (a local file or an
// S3 object).
func LockPath(loc string) string { return loc + ".lock" }

// Lock takes the lock of the state file loc for the life of a run, so that
// a second run given the same state file (an AWS Batch retry overlapping
// its first attempt, say) is refused at once with a *HeldError naming the
// holder, before it writes anything.
//
// A local state file is locked with flock on LockPath(loc), which the
// kernel releases when the process ends, however it ends. (On platforms
// without flock nothing is locked.)
//
// An S3 state file is locked with a lease object at LockPath(loc), created
// with If-None-Match: * and holding the holder and an expiry; it is renewed
// (a PutObject with If-Match on its ETag) every TTL/3 while the lock is
// held. An existing lease is taken over (If-Match on its ETag) only when it
// expired, or when its holder ran on this host, in this PID namespace, and
// its process is gone. If the lease is lost, OnLost is called.
//
// Release the lock with [Lock.Release].
func (s *Store) Lock(ctx context.Context, loc string, o LockOptions) (*Lock, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TTL <= 0 {
		o.TTL = DefaultLeaseTTL
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:]) // crypto/rand's Read never fails
	h := Holder{Host: o.Host, PID: o.PID, PIDNamespace: pidNamespace(), Started: o.Now().UTC().Truncate(time.Second), Token: hex.EncodeToString(tok[:])}
	if !IsS3(loc) {
		return lockLocal(loc, h)
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return nil, err
	}
	api, ok := s.S3.(LeaseAPI)
	if !ok {
		return nil, fmt.Errorf("lock %s: the S3 client cannot delete objects", loc)
	}
	l := &Lock{loc: loc, api: api, bucket: bucket, key: key + ".lock", holder: h, o: o, kms: s.KMSKey}
	if err := l.acquireWaiting(ctx); err != nil {
		return nil, err
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	l.renewalStarted = true
	go l.renew(ctx)
	return l, nil
}

// lockLocal takes the flock of loc's lock file and records h in it.
func lockLocal(loc string, h Holder) (*Lock, error) {
	path := LockPath(loc)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", loc, err)
		}
		ok, err := tryLockFile(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", loc, err)
		}
		if !ok {
			data, _ := io.ReadAll(io.LimitReader(f, 64<<10))
			f.Close()
			var held Holder
			_ = json.Unmarshal(data, &held) // a holder still writing it: unknown
			return nil, &HeldError{State: loc, Lock: path, Holder: held}
		}
		// A holder releasing its lock removes the file: if it did so
		// between this open and the flock, this process locked a file
		// nobody else opens. Lock the one at path instead.
		fi, ferr := f.Stat()
		pi, perr := os.Stat(path)
		if ferr != nil || perr != nil || !os.SameFile(fi, pi) {
			f.Close()
			if ferr != nil || (perr != nil && !errors.Is(perr, fs.ErrNotExist)) {
				return nil, fmt.Errorf("lock %s: %w", loc, errors.Join(ferr, perr))
			}
			continue
		}
		data, _ := json.Marshal(h)
		err = f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt(append(data, '\n'), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: write %s: %w", loc, path, err)
		}
		return &Lock{loc: loc, f: f, path: path}, nil
	}
}

// acquireWaiting is acquire, waiting up to WaitHeld for a lease another
// holder holds to expire.
func (l *Lock) acquireWaiting(ctx context.Context) error {
	deadline := l.o.Now().Add(l.o.WaitHeld)
	for {
		err := l.acquire(ctx)
		var held *HeldError
		if !errors.As(err, &held) || l.o.WaitHeld <= 0 {
			return err
		}
		wait := held.Holder.Expires.Sub(l.o.Now()) + time.Second
		if wait <= 0 || l.o.Now().Add(wait).After(deadline) {
			return err
		}
		if l.o.OnWait != nil {
			l.o.OnWait(held.Holder)
		}
		sleep := l.o.Sleep
		if sleep == nil {
			sleep = backoff.Sleep
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("stopped waiting for the lease %s of state file %s (%s) to expire: %w; nothing was started: run the same command again to resume",
				"s3://"+l.bucket+"/"+l.key, l.loc, held.Holder, err)
		}
	}
}

// takeoverAttempts bounds the rounds of creating or taking over a lease
// that other runs keep changing.
const takeoverAttempts = 5

// acquire creates the lease, or takes over an expired or dead one.
func (l *Lock) acquire(ctx context.Context) error {
	for range takeoverAttempts {
		etag, err := l.put(ctx, "")
		if err == nil {
			l.etag = etag
			return nil
		}
		if !partTaken(err) {
			return err
		}
		cur, curTag, err := l.read(ctx)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released in between: create it again
		}
		if err != nil {
			return err
		}
		if cur.Token == l.holder.Token {
			// This process's own create, retried by the SDK after a lost
			// response.
			l.etag = curTag
			return nil
		}
		if !l.o.Now().After(cur.Expires) && !deadHere(cur) {
			return &HeldError{State: l.loc, Lock: "s3://" + l.bucket + "/" + l.key, Holder: cur, S3: true}
		}
		etag, err = l.put(ctx, curTag)
		switch {
		case err == nil:
			l.etag = etag
			return nil
		case partTaken(err) || awserr.IsS3NotFound(err):
			continue // another run took it over, or released it, first
		default:
			return err
		}
	}
	return fmt.Errorf("lock %s: the lease %s kept changing while taking it: another run is starting with the same state file; retry", l.loc, "s3://"+l.bucket+"/"+l.key)
}

// put writes the lease with an expiry a TTL from now: created (ifMatch
// empty, If-None-Match: *) or replacing the version ifMatch names. The
// lock's expiry moves only when the write succeeded.
func (l *Lock) put(ctx context.Context, ifMatch string) (string, error) {
	l.mu.Lock()
	h := l.holder
	l.mu.Unlock()
	h.Expires = l.o.Now().UTC().Add(l.o.TTL)
	data, _ := json.Marshal(h)
	in := &s3.PutObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(l.key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/json"),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256}
	if l.kms != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(l.kms)
	}
	if ifMatch == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(ifMatch)
	}
	out, err := l.api.PutObject(ctx, in)
	if err != nil {
		return "", fmt.Errorf("lock %s: write s3://%s/%s: %w", l.loc, l.bucket, l.key, err)
	}
	l.mu.Lock()
	l.holder.Expires = h.Expires
	l.mu.Unlock()
	return aws.ToString(out.ETag), nil
}

// read returns the lease and its ETag. A lease that cannot be parsed
// expires a TTL after it was written.
func (l *Lock) read(ctx context.Context) (Holder, string, error) {
	out, err := l.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(l.key)})
	if err != nil {
		if awserr.IsS3NotFound(err) {
			return Holder{}, "", fs.ErrNotExist
		}
		return Holder{}, "", fmt.Errorf("lock %s: read s3://%s/%s: %w", l.loc, l.bucket, l.key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, 64<<10))
	if err != nil {
		return Holder{}, "", fmt.Errorf("lock %s: read s3://%s/%s: %w", l.loc, l.bucket, l.key, err)
	}
	var h Holder
	if json.Unmarshal(data, &h) != nil || h.Expires.IsZero() {
		h = Holder{Expires: aws.ToTime(out.LastModified).Add(l.o.TTL)}
	}
	return h, aws.ToString(out.ETag), nil
}

// renew renews the lease every TTL/3 until Release.
func (l *Lock) renew(ctx context.Context) {
	defer close(l.done)
	ticks := l.o.Ticks
	if ticks == nil {
		t := time.NewTicker(l.o.TTL / 3)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		case <-ticks:
			if err := l.Renew(ctx); err != nil {
				l.mu.Lock()
				expired := l.o.Now().After(l.holder.Expires)
				l.mu.Unlock()
				if errors.Is(err, ErrLockLost) || expired {
					l.lost(err)
					return
				}
			}
		}
	}
}

// Renew extends the S3 lease by a TTL from now. It returns an error
// wrapping ErrLockLost when another run holds the lease now. The renewal
// goroutine calls it; a local lock needs no renewal.
func (l *Lock) Renew(ctx context.Context) error {
	if l.api == nil {
		return nil
	}
	l.mu.Lock()
	etag := l.etag
	l.mu.Unlock()
	next, err := l.put(ctx, etag)
	if awserr.IsS3NotFound(err) {
		// Removed by hand: create it again, unless another run did.
		next, err = l.put(ctx, "")
	}
	if err != nil && partTaken(err) {
		cur, curTag, rerr := l.read(ctx)
		if rerr == nil && cur.Token == l.holder.Token {
			next, err = curTag, nil // this process's own write, retried by the SDK
		} else {
			return fmt.Errorf("%w: the lease s3://%s/%s is now held by another run (%s)", ErrLockLost, l.bucket, l.key, cur)
		}
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.etag = next
	l.mu.Unlock()
	return nil
}

func (l *Lock) lost(err error) {
	l.lostOnce.Do(func() {
		if !errors.Is(err, ErrLockLost) {
			err = fmt.Errorf("%w: the lease s3://%s/%s expired while it could not be renewed: %w", ErrLockLost, l.bucket, l.key, err)
		}
		if l.o.OnLost != nil {
			l.o.OnLost(err)
		}
	})
}

// releaseTimeout bounds the deletion of a lease at the end of a run
// (which may end because its context was cancelled).
const releaseTimeout = 30 * time.Second

// Release releases the lock: a local lock file is removed and unlocked; an
// S3 lease stops being renewed and is deleted, if it is still this run's.
// Release may be called more than once.
func (l *Lock) Release(ctx context.Context) error {
	l.releaseOnce.Do(func() {
		if l.f != nil {
			err := os.Remove(l.path) // while locked: see lockLocal
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			l.releaseErr = errors.Join(err, l.f.Close())
			if l.releaseErr != nil {
				l.releaseErr = fmt.Errorf("unlock %s: %w", l.loc, l.releaseErr)
			}
			return
		}
		l.stopRenewal()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		l.mu.Lock()
		etag := l.etag
		l.mu.Unlock()
		_, err := l.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(l.key), IfMatch: aws.String(etag)})
		if err != nil && !partTaken(err) && !awserr.IsS3NotFound(err) {
			l.releaseErr = fmt.Errorf("unlock %s: delete s3://%s/%s: %w", l.loc, l.bucket, l.key, err)
		}
	})
	return l.releaseErr
}

// stopRenewal stops the renewal goroutine and waits for it to end.
func (l *Lock) stopRenewal() {
	l.stopOnce.Do(func() {
		if l.renewalStarted {
			close(l.stop)
			<-l.done
		}
	})
}

// deadHere reports whether h ran on this host, in this PID namespace, and
// its process is gone: a run killed on this machine, whose lease need not
// be waited for.
func deadHere(h Holder) bool {
	host, _ := os.Hostname()
	ns := pidNamespace()
	return h.Host != "" && h.Host == host && ns != "" && h.PIDNamespace == ns && h.PID > 0 && !processAlive(h.PID)
}
