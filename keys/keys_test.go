package keys_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fileapi/keys"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newRegistry(t testing.TB) (*keys.Registry, *clock) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "test.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	r, err := keys.Open(db, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

func addMerchant(t testing.TB, r *keys.Registry, id string) {
	t.Helper()
	if _, err := r.AddMerchant(keys.Merchant{ID: id, Name: "Merchant " + id, CreditorRef: "REF-" + id}); err != nil {
		t.Fatal(err)
	}
}

// sshKeygen generates a key with OpenSSH and returns the authorized_keys
// line and the fingerprint line ssh-keygen -l prints for it.
func sshKeygen(t *testing.T, args ...string) (pub []byte, fingerprint string, bits string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	cmd := exec.Command("ssh-keygen", append([]string{"-q", "-N", "", "-C", "test@example", "-f", path}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ssh-keygen %v cannot generate this key here: %v %s", args, err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", path+".pub").Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out)) // "256 SHA256:xxx comment (ED25519)"
	return pub, f[1], f[0]
}

func TestAddKeyPolicyAndFingerprints(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Fatal("ssh-keygen is required for this test")
	}
	tests := []struct {
		name    string
		args    []string
		wantErr error
	}{
		{"ed25519", []string{"-t", "ed25519"}, nil},
		{"ecdsa256", []string{"-t", "ecdsa", "-b", "256"}, nil},
		{"ecdsa384", []string{"-t", "ecdsa", "-b", "384"}, nil},
		{"ecdsa521", []string{"-t", "ecdsa", "-b", "521"}, nil},
		{"rsa2048", []string{"-t", "rsa", "-b", "2048"}, nil},
		{"rsa1024", []string{"-t", "rsa", "-b", "1024"}, keys.ErrWeakKey},
		{"dsa", []string{"-t", "dsa"}, keys.ErrWeakKey},
	}
	r, _ := newRegistry(t)
	addMerchant(t, r, "acme")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub, fp, bits := sshKeygen(t, tc.args...)
			got, err := r.AddKey("acme", pub, time.Time{})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("AddKey = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d keys", len(got))
			}
			if got[0].Fingerprint != fp {
				t.Errorf("fingerprint %s, ssh-keygen says %s", got[0].Fingerprint, fp)
			}
			if b := got[0].Bits; bits != "" && strings.TrimSpace(bits) != strconv.Itoa(b) {
				t.Errorf("bits %d, ssh-keygen says %s", b, bits)
			}
			if got[0].Comment != "test@example" || got[0].Merchant != "acme" {
				t.Errorf("comment/merchant = %q/%q", got[0].Comment, got[0].Merchant)
			}
			pk, _, _, _, _ := ssh.ParseAuthorizedKey(pub)
			if keys.Fingerprint(pk) != fp {
				t.Errorf("Fingerprint() = %s, want %s", keys.Fingerprint(pk), fp)
			}
			// The same key cannot be registered again, to anyone.
			if _, err := r.AddKey("acme", pub, time.Time{}); !errors.Is(err, keys.ErrKeyTaken) {
				t.Errorf("second AddKey = %v, want ErrKeyTaken", err)
			}
		})
	}
}

func TestAddKeyInputs(t *testing.T) {
	r, _ := newRegistry(t)
	addMerchant(t, r, "acme")
	addMerchant(t, r, "globex")
	k1, fp1, _ := sshKeygen(t, "-t", "ed25519")
	k2, fp2, _ := sshKeygen(t, "-t", "ecdsa")
	k3, _, _ := sshKeygen(t, "-t", "ed25519")

	// Several lines, options, comments and blank lines.
	in := "# keys of acme\n\nrestrict,from=\"10.0.0.0/8\" " + string(k1) + "\r\n" + string(k2)
	got, err := r.AddKey("acme", []byte(in), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Fingerprint != fp1 || got[1].Fingerprint != fp2 {
		t.Fatalf("got %+v", got)
	}

	tests := []struct {
		name     string
		merchant string
		in       string
		want     error
	}{
		{"taken by another merchant", "globex", string(k1), keys.ErrKeyTaken},
		{"twice in one input", "globex", string(k3) + string(k3), keys.ErrKeyTaken},
		{"garbage line makes it all fail", "globex", string(k3) + "not a key\n", keys.ErrInvalidKey},
		{"empty", "globex", "\n# nothing\n", keys.ErrInvalidKey},
		{"unknown merchant", "nobody", string(k3), keys.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.AddKey(tc.merchant, []byte(tc.in), time.Time{}); !errors.Is(err, tc.want) {
				t.Fatalf("AddKey = %v, want %v", err, tc.want)
			}
		})
	}
	// All or nothing: k3 was never added by the failing calls.
	ks, err := r.Keys("globex")
	if err != nil || len(ks) != 0 {
		t.Fatalf("globex keys = %v, %v; want none", ks, err)
	}
	all, _ := r.Keys("")
	if len(all) != 2 {
		t.Fatalf("all keys = %d, want 2", len(all))
	}
}

func TestAuthenticateStates(t *testing.T) {
	r, c := newRegistry(t)
	addMerchant(t, r, "acme")
	addMerchant(t, r, "globex")
	parse := func(b []byte) ssh.PublicKey {
		pk, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			t.Fatal(err)
		}
		return pk
	}
	good, _, _ := sshKeygen(t, "-t", "ed25519")
	expiring, _, _ := sshKeygen(t, "-t", "ed25519")
	revoked, revokedFP, _ := sshKeygen(t, "-t", "ed25519")
	unknown, _, _ := sshKeygen(t, "-t", "ed25519")
	if _, err := r.AddKey("acme", good, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddKey("acme", expiring, c.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddKey("acme", revoked, time.Time{}); err != nil {
		t.Fatal(err)
	}

	var events []keys.Event
	cancel := r.Watch(func(ev keys.Event) { events = append(events, ev) })
	if _, err := r.Revoke(revokedFP); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0] != (keys.Event{Fingerprint: revokedFP, Merchant: "acme", Kind: keys.EventRevoked}) {
		t.Fatalf("events = %+v", events)
	}
	if _, err := r.Revoke("SHA256:nope"); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("Revoke unknown = %v", err)
	}

	check := func(name, merchant string, key []byte, want error) {
		t.Helper()
		_, err := r.Authenticate(merchant, parse(key))
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("%s: Authenticate = %v, want %v", name, err, want)
		}
	}
	check("good", "acme", good, nil)
	check("expiring before expiry", "acme", expiring, nil)
	check("revoked", "acme", revoked, keys.ErrRevoked)
	check("unknown", "acme", unknown, keys.ErrUnknownKey)
	check("other merchant's key", "globex", good, keys.ErrUnknownKey)
	check("no such merchant", "nobody", good, keys.ErrNotFound)

	c.Add(time.Hour)
	check("expired", "acme", expiring, keys.ErrExpired)

	if err := r.SetSuspended("acme", true); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[1].Kind != keys.EventSuspended || events[1].Merchant != "acme" {
		t.Fatalf("events = %+v", events)
	}
	check("suspended", "acme", good, keys.ErrSuspended)
	if err := r.SetSuspended("acme", false); err != nil {
		t.Fatal(err)
	}
	check("resumed", "acme", good, nil)

	cancel()
	if err := r.SetSuspended("acme", true); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("watcher called after cancel: %+v", events)
	}

	// State and MarkUsed as the CLI lists them.
	ks, _ := r.Keys("acme")
	states := map[string]string{}
	for _, k := range ks {
		states[k.Fingerprint] = k.State(c.Now())
	}
	if states[revokedFP] != keys.StateRevoked {
		t.Errorf("revoked key state %q", states[revokedFP])
	}
	fp := keys.Fingerprint(parse(good))
	if err := r.MarkUsed(fp, c.Now()); err != nil {
		t.Fatal(err)
	}
	ks, _ = r.Keys("acme")
	for _, k := range ks {
		if k.Fingerprint == fp && !k.LastUsed.Equal(c.Now()) {
			t.Errorf("LastUsed = %v, want %v", k.LastUsed, c.Now())
		}
	}
}

func TestMerchants(t *testing.T) {
	r, c := newRegistry(t)
	tests := []struct {
		name string
		m    keys.Merchant
		want error
	}{
		{"ok", keys.Merchant{ID: "zeta", Name: "Zeta", CreditorRef: "ZETA", ICS: "FR72ZZZ123456"}, nil},
		{"ok no ICS", keys.Merchant{ID: "acme_1", Name: "Acme", CreditorRef: "ACME.1-x"}, nil},
		{"duplicate ID", keys.Merchant{ID: "zeta", Name: "X", CreditorRef: "OTHER"}, keys.ErrExists},
		{"duplicate creditor ref", keys.Merchant{ID: "zeta2", Name: "X", CreditorRef: "ZETA"}, keys.ErrExists},
		{"ID too short", keys.Merchant{ID: "ab", Name: "X", CreditorRef: "AB"}, keys.ErrInvalid},
		{"ID upper case", keys.Merchant{ID: "Acme", Name: "X", CreditorRef: "AC"}, keys.ErrInvalid},
		{"ID starts with dash", keys.Merchant{ID: "-acme", Name: "X", CreditorRef: "AC"}, keys.ErrInvalid},
		{"ID with dots", keys.Merchant{ID: "../x", Name: "X", CreditorRef: "AC"}, keys.ErrInvalid},
		{"ID too long", keys.Merchant{ID: strings.Repeat("a", 33), Name: "X", CreditorRef: "AC"}, keys.ErrInvalid},
		{"creditor ref empty", keys.Merchant{ID: "abc", Name: "X"}, keys.ErrInvalid},
		{"creditor ref space", keys.Merchant{ID: "abc", Name: "X", CreditorRef: "A B"}, keys.ErrInvalid},
		{"creditor ref too long", keys.Merchant{ID: "abc", Name: "X", CreditorRef: strings.Repeat("A", 36)}, keys.ErrInvalid},
		{"bad ICS", keys.Merchant{ID: "abc", Name: "A", CreditorRef: "ABC", ICS: "nope"}, keys.ErrInvalid},
		{"name with punctuation", keys.Merchant{ID: "beta", Name: `Béta & Fils; "Lyon"`, CreditorRef: "BETA"}, nil},
		{"no name", keys.Merchant{ID: "abc", Name: "  ", CreditorRef: "ABC"}, keys.ErrInvalid},
		{"name on two lines", keys.Merchant{ID: "abc", Name: "A\nB", CreditorRef: "ABC"}, keys.ErrInvalid},
		{"name too long", keys.Merchant{ID: "abc", Name: strings.Repeat("é", 141), CreditorRef: "ABC"}, keys.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.AddMerchant(tc.m)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("AddMerchant = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.CreatedAt.Equal(c.Now()) {
				t.Errorf("CreatedAt = %v", got.CreatedAt)
			}
		})
	}
	ms, err := r.Merchants()
	if err != nil || len(ms) != 3 || ms[0].ID != "acme_1" || ms[1].ID != "beta" || ms[2].ID != "zeta" {
		t.Fatalf("Merchants = %+v, %v", ms, err)
	}
	if _, err := r.Merchant("nobody"); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("Merchant(nobody) = %v", err)
	}
	if err := r.SetSuspended("nobody", true); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("SetSuspended(nobody) = %v", err)
	}
	if err := r.SetMaxAmount("zeta", 100000); err != nil {
		t.Fatal(err)
	}
	if m, _ := r.Merchant("zeta"); m.MaxAmount != 100000 || m.ICS != "FR72ZZZ123456" {
		t.Fatalf("Merchant(zeta) = %+v", m)
	}
}

func TestAddKeyOptions(t *testing.T) {
	r, _ := newRegistry(t)
	addMerchant(t, r, "acme")
	tests := []struct {
		name     string
		options  string
		expires  time.Time
		wantErr  error
		wantFrom []string
		wantExp  time.Time
	}{
		{"none", "", time.Time{}, nil, nil, time.Time{}},
		{"ignored options", `restrict,no-pty,command="/bin/false",permitopen="x:1"`, time.Time{}, nil, nil, time.Time{}},
		{"from IPs and CIDRs", `from="10.0.0.0/8,192.0.2.7, 2001:db8::/32"`, time.Time{}, nil, []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}, time.Time{}},
		{"from host pattern", `from="*.example.com"`, time.Time{}, keys.ErrInvalidKey, nil, time.Time{}},
		{"from negation", `from="!10.0.0.1,10.0.0.0/8"`, time.Time{}, keys.ErrInvalidKey, nil, time.Time{}},
		{"expiry-time day", `expiry-time="20270101"`, time.Time{}, nil, nil, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"expiry-time minute", `expiry-time="202701011230"`, time.Time{}, nil, nil, time.Date(2027, 1, 1, 12, 30, 0, 0, time.UTC)},
		{"expiry-time bad", `expiry-time="soon"`, time.Time{}, keys.ErrInvalidKey, nil, time.Time{}},
		{"earlier of flag and option", `expiry-time="20270101"`, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil, nil, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"option earlier than flag", `expiry-time="20270101"`, time.Date(2028, 6, 1, 0, 0, 0, 0, time.UTC), nil, nil, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub, _, _ := sshKeygen(t, "-t", "ed25519")
			line := string(pub)
			if tc.options != "" {
				line = tc.options + " " + line
			}
			got, err := r.AddKey("acme", []byte(line), tc.expires)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("AddKey = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[0].From, tc.wantFrom) || !got[0].ExpiresAt.Equal(tc.wantExp) {
				t.Fatalf("From %v ExpiresAt %v, want %v %v", got[0].From, got[0].ExpiresAt, tc.wantFrom, tc.wantExp)
			}
		})
	}
}
