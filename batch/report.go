package batch

import (
	"context"
	"time"
)

// runReports produces every daily report that is due at now (SPEC §3.5).
// The scheduler calls it. The job itself is in report_job.go; it is wired
// to the service once the ledger and outbox land.
func (s *Service) runReports(ctx context.Context, now time.Time) error {
	return nil
}
