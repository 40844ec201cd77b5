package batch

import (
	"context"
	"time"
)

// runReports produces every daily report that is due at asOf (SPEC §3.5):
// every business day of every merchant that ended before asOf's date in
// the service's zone and has not been reported yet, in order. The
// scheduler calls it with the current time; RunJob("reports", D) with the
// start of D+1, so that everything through D is produced and nothing
// after. The job is in report_job.go.
func (s *Service) runReports(ctx context.Context, asOf time.Time) error {
	r := reporter{
		db:          s.db,
		loc:         s.loc,
		now:         s.Now,
		merchants:   s.cfg.Keys.Merchants,
		ledgerDay:   s.LedgerDay,
		issuesDay:   s.IssuesDay,
		writeOutput: s.WriteOutput,
		hook:        s.hook,
		log:         s.log,
	}
	return r.run(ctx, asOf)
}

// RewriteReports writes the three reports of merchant and day (a date)
// again, byte for byte as first produced, and returns their names: for
// support, when a merchant deleted or lost them (a report is otherwise
// never written twice). ErrNotReported if that day has not been reported.
func (s *Service) RewriteReports(merchant string, day time.Time) ([]string, error) {
	m, err := s.cfg.Keys.Merchant(merchant)
	if err != nil {
		return nil, err
	}
	r := reporter{db: s.db, loc: s.loc, now: s.Now, ledgerDay: s.LedgerDay, issuesDay: s.IssuesDay,
		writeOutput: s.WriteOutput, log: s.log}
	return r.rewrite(m, day)
}

// ReportedDays lists the days whose reports were produced for merchant, in
// order (for support tools and consistency checks).
func (s *Service) ReportedDays(merchant string) ([]ReportedDay, error) {
	return reportedDays(s.db, merchant)
}
