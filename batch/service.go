package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"go.etcd.io/bbolt"

	"fileapi/audit"
	"fileapi/keys"
)

// Errors callers branch on.
var (
	ErrNotFound   = errors.New("no such batch")
	ErrUnknownJob = errors.New(`unknown job (want "process" or "reports")`)
	ErrClosed     = errors.New("the batch service is closed")
)

// Config wires the service. DataDir, DB and Keys are required.
type Config struct {
	DataDir string
	DB      *bbolt.DB
	Keys    *keys.Registry
	// Clock is the service's time. Nil: a sandbox clock stored in DB when
	// Sandbox is set, the real clock otherwise.
	Clock    Clock
	Location *time.Location // business time zone; nil: Europe/Paris
	Sandbox  bool
	Audit    *audit.Log
	Logger   *slog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer      prometheus.Registerer
	ProcessSchedule string // cron spec; "" = "@every 1m"
	ReportsSchedule string // cron spec; "" = "30 0 * * *"
	// Fees per OP code in cents ("SDD", "RET", "REB"; "FEE-SDD" etc. are
	// accepted as well). Zero or absent: no fee entry.
	Fees map[string]int64
	// IntakeWorkers validate and answer pick-ups in parallel (0 = 8).
	// They mostly wait for disk syncs, not CPU: eight let the syncs of
	// different files overlap and their bbolt commits share a batch.
	IntakeWorkers int
	// ChunkSize is how many lines processing commits per bbolt transaction
	// (0 = 10,000). Tests lower it to exercise resumption.
	ChunkSize int
}

// Service is the batch lifecycle: intake, processing, settlement, ledger,
// the schedule and the outbox.
type Service struct {
	cfg     Config
	db      *bbolt.DB
	clock   Clock
	sandbox *SandboxClock
	loc     *time.Location
	log     *slog.Logger
	ids     ids
	metrics *metrics

	queues []*intakeQueue
	wg     sync.WaitGroup

	jobMu                    sync.Mutex // one job step at a time (process, settlement, reports)
	ctx                      context.Context
	cancel                   context.CancelFunc
	cron                     *cron.Cron
	kick                     chan struct{}
	kickMu                   sync.Mutex // guards kickPending, kickRunning
	kickCond                 *sync.Cond
	kickPending, kickRunning bool
	started                  bool
	closed                   bool
	lifeMu                   sync.Mutex
	testHook                 atomic.Pointer[func(point string) error] // crash injection in tests
}

// Open prepares the service: buckets, clock and metrics. Nothing runs
// until Start.
func Open(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.DataDir == "" || cfg.Keys == nil {
		return nil, errors.New("batch: Config needs DataDir, DB and Keys")
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			return nil, fmt.Errorf("batch: time zone: %w", err)
		}
		cfg.Location = loc
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ProcessSchedule == "" {
		cfg.ProcessSchedule = "@every 1m"
	}
	if cfg.ReportsSchedule == "" {
		cfg.ReportsSchedule = "30 0 * * *"
	}
	if cfg.IntakeWorkers <= 0 {
		cfg.IntakeWorkers = 8
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 10000
	}
	s := &Service{cfg: cfg, db: cfg.DB, loc: cfg.Location, log: cfg.Logger, kick: make(chan struct{}, 1)}
	s.kickCond = sync.NewCond(&s.kickMu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	switch {
	case cfg.Clock != nil:
		s.clock = cfg.Clock
		if sc, ok := cfg.Clock.(*SandboxClock); ok {
			s.sandbox = sc
		}
	case cfg.Sandbox:
		sc, err := OpenSandboxClock(s.db, nil)
		if err != nil {
			return nil, err
		}
		s.sandbox, s.clock = sc, sc
	default:
		s.clock = realClock{}
	}
	if s.sandbox != nil {
		s.sandbox.OnMove(s.Kick)
	}
	for _, dir := range []string{filepath.Join(cfg.DataDir, "originals", "tmp")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("batch: %w", err)
		}
	}
	s.queues = make([]*intakeQueue, cfg.IntakeWorkers)
	for i := range s.queues {
		s.queues[i] = newIntakeQueue()
	}
	s.metrics = newMetrics(s, cfg.Registerer)
	return s, nil
}

// Now is the service clock.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Location is the business time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Today is the current business-zone date (UTC midnight).
func (s *Service) Today() time.Time { return Date(s.Now(), s.loc) }

// SandboxClock is the movable clock, nil in production mode.
func (s *Service) SandboxClock() *SandboxClock { return s.sandbox }

// Start recovers from a crash or stop (rewrites outputs whose write was not
// confirmed, validates batches picked up but not yet acknowledged, removes
// in/ files already answered), starts the intake workers and the scheduler,
// and runs the jobs once so everything that became due while the service
// was down catches up.
func (s *Service) Start(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return nil
	}
	s.sweepOutputTemps()
	if err := s.flushOutbox(); err != nil {
		return err
	}
	if err := s.recoverIntake(); err != nil {
		return err
	}
	for _, q := range s.queues {
		s.wg.Add(1)
		go s.intakeWorker(q)
	}
	c := cron.New(cron.WithLocation(s.loc), cron.WithChain(cron.Recover(cronLogger{s.log}), cron.SkipIfStillRunning(cronLogger{s.log})))
	if _, err := c.AddFunc(s.cfg.ProcessSchedule, func() { s.runScheduled("process") }); err != nil {
		return fmt.Errorf("batch: process schedule %q: %w", s.cfg.ProcessSchedule, err)
	}
	if _, err := c.AddFunc(s.cfg.ReportsSchedule, func() { s.runScheduled("reports") }); err != nil {
		return fmt.Errorf("batch: reports schedule %q: %w", s.cfg.ReportsSchedule, err)
	}
	s.cron = c
	c.Start()
	s.wg.Add(1)
	go s.kicker()
	s.started = true
	s.Kick()
	return nil
}

// Kick asks for an immediate run of the process then reports jobs (after a
// clock move, and at start). It never blocks.
func (s *Service) Kick() {
	s.kickMu.Lock()
	s.kickPending = true
	s.kickMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) kicker() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
			s.kickMu.Lock()
			s.kickPending, s.kickRunning = false, true
			s.kickMu.Unlock()
			s.runScheduled("process")
			s.runScheduled("reports")
			s.kickMu.Lock()
			s.kickRunning = false
			s.kickCond.Broadcast()
			s.kickMu.Unlock()
		}
	}
}

func (s *Service) runScheduled(job string) {
	if err := s.RunJob(s.ctx, job, time.Time{}); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("job failed", "job", job, "err", err)
	}
}

// Close stops the scheduler once the running job step has committed, lets
// the intake workers finish the file in hand, and returns. Files still
// queued stay RECEIVED and are taken up by the next Start.
func (s *Service) Close() error {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return nil
	}
	s.closed = true
	s.lifeMu.Unlock()
	s.cancel()
	if s.cron != nil {
		<-s.cron.Stop().Done()
	}
	for _, q := range s.queues {
		q.close()
	}
	s.wg.Wait()
	s.jobMu.Lock() // wait for a RunJob called from outside
	s.jobMu.Unlock()
	return nil
}

// RunJob runs "process" (processing then settlement) or "reports" now.
// date zero means now; otherwise the job runs as of that date: process
// handles what was acknowledged and settles what is due up to the end of
// that day, reports produces what is due at the start of the next day; both
// are capped at the current time (the future cannot be settled early).
// Reports first run processing, so a report never misses a movement of its
// day.
func (s *Service) RunJob(ctx context.Context, job string, date time.Time) error {
	if job != "process" && job != "reports" {
		return ErrUnknownJob
	}
	now := s.Now()
	asOf := now
	if !date.IsZero() {
		y, m, d := date.Date()
		next := time.Date(y, m, d+1, 0, 0, 0, 0, s.loc)
		if job == "process" {
			next = next.Add(-time.Nanosecond)
		}
		if next.Before(asOf) {
			asOf = next
		}
	}
	// Merge the caller's context with the service's, so Close stops a job
	// started through RunJob as well.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	s.jobMu.Lock()
	defer s.jobMu.Unlock()
	start := time.Now()
	var err error
	switch job {
	case "process":
		err = s.process(ctx, asOf)
	case "reports":
		if err = s.process(ctx, asOf); err == nil {
			err = s.runReports(ctx, asOf)
		}
	}
	s.metrics.jobDone(job, time.Since(start), err)
	return err
}

// Batches lists a merchant's batches ("" = all merchants), newest first.
func (s *Service) Batches(merchant string) ([]BatchInfo, error) {
	var out []BatchInfo
	err := s.db.View(func(tx *bbolt.Tx) error {
		if merchant == "" {
			c := tx.Bucket(bFiles).Cursor()
			for k, v := c.Last(); k != nil; k, v = c.Prev() {
				var r batchRec
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				out = append(out, r.BatchInfo)
			}
			return nil
		}
		p := mkey(merchant)
		c := tx.Bucket(bByMerchant).Cursor()
		// Seek past the merchant's range, then walk back.
		end := append(mkey(merchant), 0xff)
		k, _ := c.Seek(end)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && len(k) > len(p) && string(k[:len(p)]) == string(p); k, _ = c.Prev() {
			r, err := getBatch(tx, string(k[len(p):]))
			if err != nil {
				return err
			}
			out = append(out, r.BatchInfo)
		}
		return nil
	})
	return out, err
}

// Batch returns one batch by file ID (ErrNotFound when unknown).
func (s *Service) Batch(fileID string) (BatchInfo, error) {
	var info BatchInfo
	err := s.db.View(func(tx *bbolt.Tx) error {
		r, err := getBatch(tx, fileID)
		if err != nil {
			return err
		}
		info = r.BatchInfo
		return nil
	})
	return info, err
}

// Balance is the merchant's booked balance in cents.
func (s *Service) Balance(merchant string) (int64, error) {
	var bal int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		_, bal = account(tx, merchant)
		return nil
	})
	return bal, err
}

// LedgerDay streams the entries booked on day (a date) for merchant, in
// booking order, from a bbolt cursor: memory stays constant however many
// there are. fn must not call methods that write to the store.
func (s *Service) LedgerDay(merchant string, day time.Time, fn func(Entry) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		p := mkey(merchant, dayKey(day))
		c := tx.Bucket(bLedger).Cursor()
		for k, v := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == string(p); k, v = c.Next() {
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// IssuesDay streams the rejects, returns and refund requests that happened
// on day for merchant, in the order they happened.
func (s *Service) IssuesDay(merchant string, day time.Time, fn func(IssueEvent) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		p := mkey(merchant, dayKey(day))
		c := tx.Bucket(bIssues).Cursor()
		for k, v := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == string(p); k, v = c.Next() {
			var ev IssueEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// hook lets tests inject a crash at a named point.
func (s *Service) hook(point string) error {
	if h := s.testHook.Load(); h != nil {
		return (*h)(point)
	}
	return nil
}

type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

// setHook installs (nil: removes) the test crash hook.
func (s *Service) setHook(fn func(point string) error) {
	if fn == nil {
		s.testHook.Store(nil)
		return
	}
	s.testHook.Store(&fn)
}

// waitKicks waits until the runs asked for by Kick are done (tests; the
// service must be started).
func (s *Service) waitKicks() {
	s.kickMu.Lock()
	for s.kickPending || s.kickRunning {
		s.kickCond.Wait()
	}
	s.kickMu.Unlock()
}
