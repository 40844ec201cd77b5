package batch

import (
	"context"
	"time"
)

// runReports produces every daily report that is due at now (SPEC §3.5).
// Placeholder until the reports work lands; the scheduler calls it.
func (s *Service) runReports(ctx context.Context, now time.Time) error {
	return nil
}
