package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"fileapi/audit"
	"fileapi/keys"
)

func init() {
	commands = append(commands,
		&command{
			name:    "keys add",
			args:    "MERCHANT FILE|- [--expires DATE]",
			summary: "register a merchant's SSH public key(s); prints the SHA256 fingerprint",
			help: `FILE is in authorized_keys format (a .pub file, or several keys one a line);
"-" reads it from standard input. Accepted: ed25519, ecdsa, RSA of 2048 bits
or more, and their sk- (FIDO) variants. All keys of the file are added, or
none. --expires DATE (YYYY-MM-DD, or an RFC 3339 time) ends the key's
validity at 00:00 that day in the service's time zone.`,
			minArgs: 2, maxArgs: 2,
			inputArg: 2,
			admin:    true, mutates: true,
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				fs.StringVar(&o.Expires, "expires", "", "expiry `DATE` (YYYY-MM-DD or RFC 3339)")
			},
			run: runKeysAdd,
		},
		&command{
			name:    "keys list",
			args:    "[MERCHANT]",
			summary: "list keys: fingerprint, type, bits, comment, added, last used, state",
			maxArgs: 1,
			admin:   true,
			run:     runKeysList,
		},
		&command{
			name:    "keys revoke",
			args:    "FINGERPRINT",
			summary: "revoke a key (SHA256:... as ssh-keygen -l prints it); its sessions are closed",
			minArgs: 1, maxArgs: 1,
			admin: true, mutates: true,
			run: runKeysRevoke,
		},
	)
}

// parseDateOrTime reads a bare date (midnight in loc) or an RFC 3339 time.
func parseDateOrTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or an RFC 3339 time", s)
}

func runKeysAdd(inv *invocation) error {
	merchant, src := inv.args[0], inv.args[1]
	var expires time.Time
	if inv.opts.Expires != "" {
		t, err := parseDateOrTime(inv.opts.Expires, inv.env.loc)
		if err != nil {
			return usagef("keys add: --expires: %v", err)
		}
		if !t.After(inv.env.wall()) {
			return fmt.Errorf("the expiry %s is in the past", inv.opts.Expires)
		}
		expires = t
	}
	if _, err := inv.env.svc.keys.Merchant(merchant); err != nil {
		return merchantErr(merchant, err)
	}
	if src == "-" {
		src = "standard input"
	}
	added, err := inv.env.svc.keys.AddKey(merchant, inv.input, expires)
	if err != nil {
		return keyAddErr(src, err)
	}
	for _, k := range added {
		inv.record(audit.Event{Action: "key_add", Merchant: merchant, Fingerprint: k.Fingerprint, Detail: fmt.Sprintf("%s %d bits %s", k.Type, k.Bits, k.Comment)})
		if _, err := fmt.Fprintln(inv.stdout, k.Fingerprint); err != nil {
			return err
		}
	}
	return nil
}

// keyAddErr names the input in the registry's key errors.
func keyAddErr(src string, err error) error {
	switch {
	case errors.Is(err, keys.ErrInvalidKey):
		return fmt.Errorf("%s: %s", src, strings.TrimPrefix(err.Error(), "this "))
	case errors.Is(err, keys.ErrWeakKey):
		return fmt.Errorf("%s: %s", src, strings.TrimPrefix(err.Error(), "this "))
	case errors.Is(err, keys.ErrKeyTaken):
		return fmt.Errorf("%s: %s", src, strings.TrimPrefix(err.Error(), "this "))
	}
	return err
}

func runKeysList(inv *invocation) error {
	merchant := ""
	if len(inv.args) == 1 {
		merchant = inv.args[0]
	}
	ks, err := inv.env.svc.keys.Keys(merchant)
	if err != nil {
		return merchantErr(merchant, err)
	}
	if len(ks) == 0 {
		if merchant != "" {
			fmt.Fprintf(inv.stdout, "merchant %s has no keys (add one with 'fileapi keys add %s FILE')\n", merchant, merchant)
		} else {
			fmt.Fprintln(inv.stdout, "no keys yet (add one with 'fileapi keys add MERCHANT FILE')")
		}
		return nil
	}
	return writeKeyTable(inv, ks, merchant == "")
}

// writeKeyTable prints keys in aligned columns.
func writeKeyTable(inv *invocation, ks []keys.Key, withMerchant bool) error {
	now := inv.env.wall()
	tw := tabwriter.NewWriter(inv.stdout, 0, 0, 2, ' ', 0)
	head := "FINGERPRINT\tTYPE\tBITS\tCOMMENT\tADDED\tLAST_USED\tSTATE"
	if withMerchant {
		head = "MERCHANT\t" + head
	}
	fmt.Fprintln(tw, head)
	for _, k := range ks {
		state := k.State(now)
		if state == keys.StateActive && !k.ExpiresAt.IsZero() {
			state += " (expires " + inv.env.day(k.ExpiresAt) + ")"
		}
		row := fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s\t%s", k.Fingerprint, k.Type, k.Bits, dash(k.Comment), inv.env.stamp(k.AddedAt), never(inv.env, k.LastUsed), state)
		if withMerchant {
			row = k.Merchant + "\t" + row
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

func never(e *env, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return e.stamp(t)
}

func runKeysRevoke(inv *invocation) error {
	fp := inv.args[0]
	if !strings.HasPrefix(fp, "SHA256:") {
		fp = "SHA256:" + fp // as ssh-keygen -l prints it, or its bare hash
	}
	before, err := findKey(inv.env, fp)
	if err != nil {
		return err
	}
	k, err := inv.env.svc.keys.Revoke(fp)
	if errors.Is(err, keys.ErrNotFound) {
		return fmt.Errorf("no key with fingerprint %s", fp)
	}
	if err != nil {
		return err
	}
	if !before.RevokedAt.IsZero() {
		_, err = fmt.Fprintf(inv.stdout, "key %s of merchant %s was already revoked on %s\n", k.Fingerprint, k.Merchant, inv.env.stamp(before.RevokedAt))
		return err
	}
	inv.record(audit.Event{Action: "key_revoke", Merchant: k.Merchant, Fingerprint: k.Fingerprint})
	_, err = fmt.Fprintf(inv.stdout, "key %s of merchant %s revoked; its sessions are closed\n", k.Fingerprint, k.Merchant)
	return err
}

func findKey(e *env, fp string) (keys.Key, error) {
	ks, err := e.svc.keys.Keys("")
	if err != nil {
		return keys.Key{}, err
	}
	for _, k := range ks {
		if k.Fingerprint == fp {
			return k, nil
		}
	}
	return keys.Key{}, fmt.Errorf("no key with fingerprint %s", fp)
}
