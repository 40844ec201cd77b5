package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"fileapi/audit"
	"fileapi/batch"
	"fileapi/formats"
)

func init() {
	commands = append(commands,
		&command{
			name:    "batches list",
			args:    "[--merchant ID]",
			summary: "list uploaded files: file id, merchant, name, type, status, counts, amounts",
			maxArgs: 0,
			admin:   true,
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				fs.StringVar(&o.Merchant, "merchant", "", "only this merchant's files (merchant `ID`)")
			},
			run: runBatchesList,
		},
		&command{
			name:    "batches show",
			args:    "FILE_ID",
			summary: "show one uploaded file and its outcome",
			minArgs: 1, maxArgs: 1,
			admin: true,
			run:   runBatchesShow,
		},
		&command{
			name:    "jobs run",
			args:    "process|reports [--date YYYY-MM-DD]",
			summary: "run a scheduled job now (process: processing and settlement; reports: daily reports)",
			help: `Runs the job as the scheduler would, at once. --date runs it as of the end of
that day (never beyond the service's current time): "process" handles what
was acknowledged and settles what is due up to that day, "reports" produces
the reports due for the days up to it. Without a server, the job runs in
this process on the store.`,
			minArgs: 1, maxArgs: 1,
			admin: true, mutates: true,
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				fs.StringVar(&o.Date, "date", "", "run as of this `DATE` (YYYY-MM-DD)")
			},
			prepare: func(inv *invocation) error {
				if j := inv.args[0]; j != "process" && j != "reports" {
					return usagef("jobs run: unknown job %q (want process or reports)", j)
				}
				if inv.opts.Date != "" {
					if _, err := time.Parse("2006-01-02", inv.opts.Date); err != nil {
						return usagef("jobs run: --date %q is not a date (YYYY-MM-DD)", inv.opts.Date)
					}
				}
				return nil
			},
			run: runJob,
		},
		&command{
			name:    "clock show",
			summary: "show the service's clock (sandbox time and how far it is ahead)",
			maxArgs: 0,
			admin:   true,
			run:     runClockShow,
		},
		&command{
			name:    "clock set",
			args:    "DATE",
			summary: "move the sandbox clock forward to DATE (YYYY-MM-DD or RFC 3339)",
			help: `A bare date means 00:00 that day in the service's time zone; an RFC 3339 time
is taken as it is. The clock never moves backward, keeps running at normal
speed from the new time, and the move survives restarts. The scheduled jobs
catch up at once with everything that became due. Refused in production mode.`,
			minArgs: 1, maxArgs: 1,
			admin: true, mutates: true,
			run: runClockSet,
		},
		&command{
			name:    "clock advance",
			args:    "DURATION",
			summary: "move the sandbox clock forward by DURATION (72h, 90m, 3d)",
			help: `DURATION is a Go duration (72h, 1h30m) or a number of days (3d). Refused in
production mode. The scheduled jobs catch up at once.`,
			minArgs: 1, maxArgs: 1,
			admin: true, mutates: true,
			prepare: func(inv *invocation) error {
				if _, err := parseAdvance(inv.args[0]); err != nil {
					return usagef("clock advance: %v", err)
				}
				return nil
			},
			run: runClockAdvance,
		},
	)
}

func runBatchesList(inv *invocation) error {
	if m := inv.opts.Merchant; m != "" {
		if _, err := inv.env.svc.keys.Merchant(m); err != nil {
			return merchantErr(m, err)
		}
	}
	bs, err := inv.env.svc.batch.Batches(inv.opts.Merchant)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		fmt.Fprintln(inv.stdout, "no files uploaded yet")
		return nil
	}
	tw := tabwriter.NewWriter(inv.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE_ID\tMERCHANT\tNAME\tTYPE\tSTATUS\tLINES\tACCEPTED\tREFUSED\tTOTAL\tACCEPTED_TOTAL\tRECEIVED")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", b.FileID, b.Merchant, b.Name, dash(string(b.Type)), statusText(b),
			b.Lines, b.Accepted, b.Refused, money(b.Total, b.Currency), money(b.AcceptedTotal, b.Currency), inv.env.stamp(b.ReceivedAt))
	}
	return tw.Flush()
}

func statusText(b batch.BatchInfo) string {
	if b.Status == batch.StatusRejected && b.ErrorCode != "" {
		return b.Status + " (" + b.ErrorCode + ")"
	}
	return b.Status
}

func money(cents int64, currency string) string {
	if currency == "" {
		currency = "EUR"
	}
	return formats.FormatAmount(cents) + " " + currency
}

func runBatchesShow(inv *invocation) error {
	id := inv.args[0]
	b, err := inv.env.svc.batch.Batch(id)
	if errors.Is(err, batch.ErrNotFound) {
		return fmt.Errorf("no file with ID %q (see 'fileapi batches list')", id)
	}
	if err != nil {
		return err
	}
	w := inv.stdout
	row := func(k, v string) { fmt.Fprintf(w, "%-16s%s\n", k+":", v) }
	row("File ID", b.FileID)
	row("Merchant", b.Merchant)
	row("Name", b.Name)
	row("Type", dash(string(b.Type)))
	row("Status", statusText(b))
	row("SHA-256", b.SHA256)
	row("Size", strconv.FormatInt(b.Size, 10)+" bytes")
	row("Lines", strconv.Itoa(b.Lines))
	row("Total", money(b.Total, b.Currency))
	if b.Status == batch.StatusRejected {
		row("Errors", strconv.Itoa(b.Errors))
	}
	if !b.ProcessedAt.IsZero() {
		row("Accepted", fmt.Sprintf("%d (%s)", b.Accepted, money(b.AcceptedTotal, b.Currency)))
		row("Refused", strconv.Itoa(b.Refused))
	}
	row("Received", inv.env.stamp(b.ReceivedAt))
	row("Acknowledged", inv.env.stamp(b.AcknowledgedAt))
	row("Processed", inv.env.stamp(b.ProcessedAt))
	if !b.ProcessingDay.IsZero() {
		row("Processing day", b.ProcessingDay.Format("2006-01-02"))
	}
	return nil
}

func runJob(inv *invocation) error {
	if err := inv.cmd.prepare(inv); err != nil {
		return err
	}
	job := inv.args[0]
	var date time.Time
	if inv.opts.Date != "" {
		date, _ = time.ParseInLocation("2006-01-02", inv.opts.Date, inv.env.loc)
	}
	start := time.Now()
	if err := inv.env.svc.batch.RunJob(context.Background(), job, date); err != nil {
		return fmt.Errorf("job %s failed: %v", job, err)
	}
	took := time.Since(start).Round(time.Millisecond)
	inv.record(audit.Event{Action: "job_run", Detail: strings.TrimSpace(job + " " + inv.opts.Date)})
	asOf := "now"
	if inv.opts.Date != "" {
		asOf = "as of " + inv.opts.Date
	}
	_, err := fmt.Fprintf(inv.stdout, "job %s done (%s) in %s\n", job, asOf, took)
	return err
}

func runClockShow(inv *invocation) error {
	svc := inv.env.svc.batch
	loc := inv.env.loc
	if sc := svc.SandboxClock(); sc != nil {
		fmt.Fprintf(inv.stdout, "sandbox clock: %s (%s)\n", svc.Now().In(loc).Format("2006-01-02 15:04:05 MST"), loc)
		fmt.Fprintf(inv.stdout, "ahead of real time by %s\n", roundDuration(sc.Offset()))
		return nil
	}
	_, err := fmt.Fprintf(inv.stdout, "production mode: real clock %s (%s)\n", svc.Now().In(loc).Format("2006-01-02 15:04:05 MST"), loc)
	return err
}

func roundDuration(d time.Duration) string {
	if d >= 24*time.Hour {
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd %s", days, (d - days*24*time.Hour).Round(time.Second))
	}
	return d.Round(time.Second).String()
}

// sandboxClock returns the sandbox clock, or an error in production mode.
func sandboxClock(inv *invocation) (*batch.SandboxClock, error) {
	sc := inv.env.svc.batch.SandboxClock()
	if sc == nil {
		return nil, errors.New("the clock cannot be moved in production mode (it is the real clock)")
	}
	return sc, nil
}

func runClockSet(inv *invocation) error {
	sc, err := sandboxClock(inv)
	if err != nil {
		return err
	}
	t, err := parseDateOrTime(inv.args[0], inv.env.loc)
	if err != nil {
		return usagef("clock set: %v", err)
	}
	if err := sc.Set(t); err != nil {
		if errors.Is(err, batch.ErrClockBackward) {
			return fmt.Errorf("the sandbox clock only moves forward: %s is before its current time %s", inv.args[0], inv.env.svc.batch.Now().In(inv.env.loc).Format("2006-01-02 15:04 MST"))
		}
		return err
	}
	inv.record(audit.Event{Action: "clock_set", Detail: t.Format(time.RFC3339)})
	return clockMoved(inv)
}

// parseAdvance reads a Go duration or a number of days ("3d").
func parseAdvance(s string) (time.Duration, error) {
	if m := regexp.MustCompile(`^([0-9]{1,5})d$`).FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 72h, 90m or 3d", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("the sandbox clock only moves forward (%s is negative)", s)
	}
	return d, nil
}

func runClockAdvance(inv *invocation) error {
	sc, err := sandboxClock(inv)
	if err != nil {
		return err
	}
	d, err := parseAdvance(inv.args[0])
	if err != nil {
		return usagef("clock advance: %v", err)
	}
	if err := sc.Advance(d); err != nil {
		return err
	}
	inv.record(audit.Event{Action: "clock_advance", Detail: d.String()})
	return clockMoved(inv)
}

func clockMoved(inv *invocation) error {
	now := inv.env.svc.batch.Now().In(inv.env.loc).Format("2006-01-02 15:04:05 MST")
	if inv.env.server {
		_, err := fmt.Fprintf(inv.stdout, "sandbox clock now %s; the jobs are catching up\n", now)
		return err
	}
	_, err := fmt.Fprintf(inv.stdout, "sandbox clock now %s; the jobs catch up when the server starts (or run 'fileapi jobs run process')\n", now)
	return err
}
