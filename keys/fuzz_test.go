package keys_test

import (
	"testing"
	"time"
)

// FuzzAddKey feeds arbitrary authorized_keys input: AddKey never panics,
// and a refused input adds nothing (all or nothing).
func FuzzAddKey(f *testing.F) {
	for _, s := range []string{
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl c",
		`from="10.0.0.0/8",expiry-time="20270101" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl`,
		"# comment\n\nssh-rsa AAAA\n",
		`command="x\" y" ssh-dss AAAA`,
	} {
		f.Add(s)
	}
	r, _ := newRegistry(f)
	addMerchant(f, r, "acme")
	f.Fuzz(func(t *testing.T, in string) {
		before, err := r.Keys("acme")
		if err != nil {
			t.Fatal(err)
		}
		added, err := r.AddKey("acme", []byte(in), time.Time{})
		after, _ := r.Keys("acme")
		if err != nil && len(after) != len(before) {
			t.Fatalf("refused input %q added keys", in)
		}
		if err == nil && len(after) != len(before)+len(added) {
			t.Fatalf("accepted %d keys but the registry grew by %d", len(added), len(after)-len(before))
		}
	})
}
