package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"fileapi/audit"
	"fileapi/formats"
	"fileapi/keys"
)

func init() {
	commands = append(commands,
		&command{
			name:    "merchant add",
			args:    "ID --name NAME --creditor-ref REF [--ics CREDITOR_ID] [--max-amount AMOUNT]",
			summary: "register a merchant (its ID is its SFTP user name)",
			help: `ID is 3 to 32 of a-z, 0-9, _ and -, starting with a letter or digit.
The creditor reference (1 to 35 of A-Z a-z 0-9 . _ -) is unique across
merchants; its files' header lines must carry it and report names use it.
--ics is the SEPA creditor identifier (pain.008 CdtrSchmeId must match it).
--max-amount refuses payment lines above it with AM02 (EUR, like 5000.00).`,
			minArgs: 1, maxArgs: 1,
			admin: true, mutates: true,
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				fs.StringVar(&o.Name, "name", "", "company `NAME` (shown in reports)")
				fs.StringVar(&o.CreditorRef, "creditor-ref", "", "creditor reference `REF`")
				fs.StringVar(&o.ICS, "ics", "", "SEPA creditor identifier `CREDITOR_ID`")
				fs.StringVar(&o.MaxAmount, "max-amount", "", "largest amount of one payment line, in EUR (`AMOUNT`)")
			},
			prepare: func(inv *invocation) error {
				if strings.TrimSpace(inv.opts.Name) == "" {
					return usagef("merchant add: --name is required")
				}
				if inv.opts.CreditorRef == "" {
					return usagef("merchant add: --creditor-ref is required")
				}
				if inv.opts.MaxAmount != "" {
					if _, err := formats.ParseAmount(inv.opts.MaxAmount); err != nil {
						return usagef("merchant add: --max-amount %q is not an amount like 5000.00", inv.opts.MaxAmount)
					}
				}
				return nil
			},
			run: runMerchantAdd,
		},
		&command{
			name:    "merchant list",
			summary: "list merchants",
			maxArgs: 0,
			admin:   true,
			run:     runMerchantList,
		},
		&command{
			name:    "merchant show",
			args:    "ID",
			summary: "show a merchant and its keys",
			minArgs: 1, maxArgs: 1,
			admin: true,
			run:   runMerchantShow,
		},
		&command{
			name:    "merchant suspend",
			args:    "ID",
			summary: "suspend a merchant: no login, live sessions closed",
			minArgs: 1, maxArgs: 1,
			admin: true, mutates: true,
			run: func(inv *invocation) error { return setSuspended(inv, true) },
		},
		&command{
			name:    "merchant resume",
			args:    "ID",
			summary: "let a suspended merchant log in again",
			minArgs: 1, maxArgs: 1,
			admin: true, mutates: true,
			run: func(inv *invocation) error { return setSuspended(inv, false) },
		},
	)
}

// merchantErr turns the registry's errors into one sentence about id.
func merchantErr(id string, err error) error {
	if errors.Is(err, keys.ErrNotFound) {
		return fmt.Errorf("no merchant %q", id)
	}
	return err
}

func runMerchantAdd(inv *invocation) error {
	if err := inv.cmd.prepare(inv); err != nil { // checked again server side
		return err
	}
	reg := inv.env.svc.keys
	id := inv.args[0]
	if !keys.ValidMerchantID(id) {
		return fmt.Errorf("invalid merchant ID %q: use 3 to 32 of a-z, 0-9, _ and -, starting with a letter or digit", id)
	}
	// keys checks the identifier's shape; its check digits need package
	// formats, which keys must not import.
	if ics := inv.opts.ICS; ics != "" {
		if err := formats.ValidateCreditorID(ics); err != nil {
			return fmt.Errorf("--ics %s: %v", ics, err)
		}
	}
	// Check the common mistakes first, to name them plainly; AddMerchant
	// enforces the same rules in its transaction.
	if _, err := reg.Merchant(id); err == nil {
		return fmt.Errorf("merchant %q already exists", id)
	}
	all, err := reg.Merchants()
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.CreditorRef == inv.opts.CreditorRef {
			return fmt.Errorf("creditor reference %q already belongs to merchant %q", m.CreditorRef, m.ID)
		}
	}
	var max int64
	if inv.opts.MaxAmount != "" {
		max, _ = formats.ParseAmount(inv.opts.MaxAmount)
	}
	m, err := reg.AddMerchant(keys.Merchant{ID: id, Name: strings.TrimSpace(inv.opts.Name), CreditorRef: inv.opts.CreditorRef, ICS: inv.opts.ICS, MaxAmount: max,
		// Dated by the service clock (the sandbox clock in sandbox mode):
		// the merchant's daily reports start on that day (SPEC §5).
		CreatedAt: inv.env.svc.batch.Now()})
	if err != nil {
		return trimSentinel(err, keys.ErrInvalid)
	}
	// The merchant's folders exist from now on, so the first login finds
	// in/ and out/ even before the SFTP server creates anything.
	for _, sub := range []string{"in", "out"} {
		if err := os.MkdirAll(filepath.Join(inv.env.dataDir, "merchants", m.ID, sub), 0o700); err != nil {
			return fmt.Errorf("merchant %q added, but its folders could not be created: %v", m.ID, err)
		}
	}
	inv.record(audit.Event{Action: "merchant_add", Merchant: m.ID, Detail: fmt.Sprintf("name=%q creditor_ref=%q ics=%q", m.Name, m.CreditorRef, m.ICS)})
	_, err = fmt.Fprintf(inv.stdout, "merchant %s added (creditor reference %s)\n", m.ID, m.CreditorRef)
	return err
}

// trimSentinel drops a sentinel's generic text when the wrapped message
// already says precisely what is wrong ("invalid merchant data: merchant
// ID ... must be ..." becomes "merchant ID ... must be ...").
func trimSentinel(err, sentinel error) error {
	if errors.Is(err, sentinel) {
		if rest, ok := strings.CutPrefix(err.Error(), sentinel.Error()+": "); ok {
			return errors.New(rest)
		}
	}
	return err
}

func runMerchantList(inv *invocation) error {
	ms, err := inv.env.svc.keys.Merchants()
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		fmt.Fprintln(inv.stdout, "no merchants yet (add one with 'fileapi merchant add')")
		return nil
	}
	ks, err := inv.env.svc.keys.Keys("")
	if err != nil {
		return err
	}
	now := inv.env.wall()
	active := map[string]int{}
	for _, k := range ks {
		if k.State(now) == keys.StateActive {
			active[k.Merchant]++
		}
	}
	tw := tabwriter.NewWriter(inv.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREDITOR_REF\tICS\tSTATUS\tACTIVE_KEYS\tCREATED")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", m.ID, m.Name, m.CreditorRef, dash(m.ICS), merchantStatus(m), active[m.ID], inv.env.day(m.CreatedAt))
	}
	return tw.Flush()
}

func merchantStatus(m keys.Merchant) string {
	if m.Suspended {
		return "suspended"
	}
	return "active"
}

func runMerchantShow(inv *invocation) error {
	id := inv.args[0]
	m, err := inv.env.svc.keys.Merchant(id)
	if err != nil {
		return merchantErr(id, err)
	}
	ks, err := inv.env.svc.keys.Keys(id)
	if err != nil {
		return merchantErr(id, err)
	}
	w := inv.stdout
	fmt.Fprintf(w, "ID:            %s\n", m.ID)
	fmt.Fprintf(w, "Name:          %s\n", m.Name)
	fmt.Fprintf(w, "Creditor ref:  %s\n", m.CreditorRef)
	fmt.Fprintf(w, "ICS:           %s\n", dash(m.ICS))
	fmt.Fprintf(w, "Status:        %s\n", merchantStatus(m))
	max := "none"
	if m.MaxAmount > 0 {
		max = formats.FormatAmount(m.MaxAmount) + " EUR"
	}
	fmt.Fprintf(w, "Max amount:    %s\n", max)
	fmt.Fprintf(w, "Created:       %s\n", inv.env.stamp(m.CreatedAt))
	if bal, err := inv.env.svc.batch.Balance(m.ID); err == nil {
		sign := ""
		if bal < 0 {
			sign, bal = "-", -bal
		}
		fmt.Fprintf(w, "Balance:       %s%s EUR\n", sign, formats.FormatAmount(bal))
	}
	fmt.Fprintf(w, "Folders:       %s\n", filepath.Join(inv.env.dataDir, "merchants", m.ID))
	fmt.Fprintf(w, "Keys:          %d\n", len(ks))
	if len(ks) > 0 {
		fmt.Fprintln(w)
		return writeKeyTable(inv, ks, false)
	}
	return nil
}

func setSuspended(inv *invocation, suspend bool) error {
	id := inv.args[0]
	m, err := inv.env.svc.keys.Merchant(id)
	if err != nil {
		return merchantErr(id, err)
	}
	if err := inv.env.svc.keys.SetSuspended(id, suspend); err != nil {
		return merchantErr(id, err)
	}
	action, text := "merchant_resume", "resumed: it can log in again"
	if suspend {
		action, text = "merchant_suspend", "suspended: it cannot log in and its sessions are closed"
	}
	if m.Suspended == suspend {
		text = "was already " + merchantStatus(m)
	}
	inv.record(audit.Event{Action: action, Merchant: id})
	_, err = fmt.Fprintf(inv.stdout, "merchant %s %s\n", id, text)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// day prints a time as a date in the service's time zone.
func (e *env) day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(e.loc).Format("2006-01-02")
}

// stamp prints a time to the minute in the service's time zone.
func (e *env) stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(e.loc).Format("2006-01-02 15:04 MST")
}
