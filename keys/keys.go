package keys

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

// Sentinel errors. Callers branch on them with errors.Is; their texts are
// one readable sentence so the CLI can print them as they are.
var (
	ErrNotFound   = errors.New("no such merchant or key")
	ErrExists     = errors.New("a merchant with this ID or creditor reference already exists")
	ErrKeyTaken   = errors.New("this public key is already registered")
	ErrWeakKey    = errors.New("this key type or size is not accepted (use ed25519, ecdsa, or RSA of 2048 bits or more)")
	ErrInvalidKey = errors.New("this is not a public key in authorized_keys format")
	ErrInvalid    = errors.New("invalid merchant data")
	ErrUnknownKey = errors.New("this key is not registered for this merchant")
	ErrRevoked    = errors.New("this key has been revoked")
	ErrExpired    = errors.New("this key has expired")
	ErrSuspended  = errors.New("this merchant is suspended")
)

// Key states returned by Key.State.
const (
	StateActive  = "active"
	StateRevoked = "revoked"
	StateExpired = "expired"
)

// Event kinds sent to watchers.
const (
	EventRevoked   = "revoked"
	EventSuspended = "suspended"
)

var (
	merchantIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{2,31}$`)
	creditorRe   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,35}$`)
	// The SEPA-restricted creditor identifier pattern (SEPA.md §1.3). The
	// check digits are verified by package formats, which keys must not
	// import (dependencies point one way).
	icsRe = regexp.MustCompile(`^[a-zA-Z]{2}[0-9]{2}[A-Za-z0-9+?/\-:().,']{3}[A-Za-z0-9+?/\-:().,']{1,28}$`)
)

var (
	bucketMerchants = []byte("keys.merchants")
	bucketKeys      = []byte("keys.keys")
)

// Merchant is a customer allowed to log in over SFTP with its ID as user name.
type Merchant struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	CreditorRef string    `json:"creditor_ref"`
	ICS         string    `json:"ics,omitempty"`
	Suspended   bool      `json:"suspended,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	MaxAmount   int64     `json:"max_amount,omitempty"` // cents, 0 = no maximum
}

// Key is a registered SSH public key. Times are zero when not applicable
// (never used, never expires, not revoked).
type Key struct {
	Fingerprint string    `json:"fingerprint"` // "SHA256:..." as ssh-keygen -l prints it
	Type        string    `json:"type"`
	Bits        int       `json:"bits"`
	Comment     string    `json:"comment,omitempty"`
	Merchant    string    `json:"merchant"`
	AddedAt     time.Time `json:"added_at"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	RevokedAt   time.Time `json:"revoked_at,omitzero"`
	PublicKey   []byte    `json:"public_key"` // SSH wire format
	// From restricts the source addresses the key may log in from (IPs
	// and CIDR ranges, from the authorized_keys from="..." option); empty
	// means anywhere.
	From []string `json:"from,omitempty"`
}

// State is "revoked", "expired" or "active" at time now; revocation wins.
func (k Key) State(now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return StateRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return StateExpired
	default:
		return StateActive
	}
}

// Event tells watchers that live sessions must end: a key was revoked
// (Fingerprint set) or a merchant suspended (Fingerprint empty).
type Event struct {
	Fingerprint string
	Merchant    string
	Kind        string // EventRevoked or EventSuspended
}

// Registry is the store of merchants and keys. It is safe for concurrent use.
type Registry struct {
	db  *bbolt.DB
	now func() time.Time

	mu       sync.Mutex
	watchers map[int]func(Event)
	nextID   int
}

// Open creates the registry's buckets in db if needed. now is the clock
// (nil: time.Now).
func Open(db *bbolt.DB, now func() time.Time) (*Registry, error) {
	if now == nil {
		now = time.Now
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketMerchants, bucketKeys} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("keys: open: %w", err)
	}
	return &Registry{db: db, now: now, watchers: map[int]func(Event){}}, nil
}

// ValidMerchantID reports whether id is an acceptable merchant ID (and
// therefore SFTP user name and folder name).
func ValidMerchantID(id string) bool { return merchantIDRe.MatchString(id) }

// AddMerchant registers a new merchant and returns it with CreatedAt set
// (to m.CreatedAt when the caller gave one, else to the registry's now).
func (r *Registry) AddMerchant(m Merchant) (Merchant, error) {
	if !merchantIDRe.MatchString(m.ID) {
		return Merchant{}, fmt.Errorf("%w: merchant ID %q must be 3 to 32 of a-z, 0-9, _ and -, starting with a letter or digit", ErrInvalid, m.ID)
	}
	// The name goes into report headers and camt.053 (Max140Text): one
	// line of text, no control characters.
	if strings.TrimSpace(m.Name) == "" || utf8.RuneCountInString(m.Name) > 140 || !utf8.ValidString(m.Name) ||
		strings.ContainsFunc(m.Name, unicode.IsControl) {
		return Merchant{}, fmt.Errorf("%w: the merchant name must be 1 to 140 characters of text on one line", ErrInvalid)
	}
	if !creditorRe.MatchString(m.CreditorRef) {
		return Merchant{}, fmt.Errorf("%w: creditor reference %q must be 1 to 35 of A-Z, a-z, 0-9, '.', '_' and '-'", ErrInvalid, m.CreditorRef)
	}
	if m.ICS != "" && !icsRe.MatchString(m.ICS) {
		return Merchant{}, fmt.Errorf("%w: %q is not a SEPA creditor identifier", ErrInvalid, m.ICS)
	}
	if m.MaxAmount < 0 {
		return Merchant{}, fmt.Errorf("%w: the maximum amount cannot be negative", ErrInvalid)
	}
	// The caller may date the creation with the service's clock (the
	// sandbox day from which the merchant's daily reports start); zero
	// means the registry's own clock.
	if m.CreatedAt.IsZero() {
		m.CreatedAt = r.now()
	}
	m.CreatedAt = m.CreatedAt.UTC()
	m.Suspended = false
	err := r.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMerchants)
		if b.Get([]byte(m.ID)) != nil {
			return fmt.Errorf("%w: merchant %s already exists", ErrExists, m.ID)
		}
		err := b.ForEach(func(_, v []byte) error {
			var o Merchant
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			if o.CreditorRef == m.CreditorRef {
				return fmt.Errorf("%w: creditor reference %s belongs to merchant %s", ErrExists, m.CreditorRef, o.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return putJSON(b, m.ID, m)
	})
	if err != nil {
		return Merchant{}, err
	}
	return m, nil
}

// Merchant returns the merchant with this ID, or ErrNotFound.
func (r *Registry) Merchant(id string) (Merchant, error) {
	var m Merchant
	err := r.db.View(func(tx *bbolt.Tx) error {
		var err error
		m, err = getMerchant(tx, id)
		return err
	})
	return m, err
}

// Merchants returns every merchant, sorted by ID.
func (r *Registry) Merchants() ([]Merchant, error) {
	var out []Merchant
	err := r.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMerchants).ForEach(func(_, v []byte) error {
			var m Merchant
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	// bbolt keys are sorted bytewise, which is ID order already; sort anyway
	// so the contract does not depend on the storage layout.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// SetSuspended suspends or resumes a merchant. Suspending tells watchers,
// so that the merchant's live sessions are closed.
func (r *Registry) SetSuspended(id string, suspended bool) error {
	err := r.db.Update(func(tx *bbolt.Tx) error {
		m, err := getMerchant(tx, id)
		if err != nil {
			return err
		}
		m.Suspended = suspended
		return putJSON(tx.Bucket(bucketMerchants), m.ID, m)
	})
	if err != nil {
		return err
	}
	if suspended {
		r.notify(Event{Merchant: id, Kind: EventSuspended})
	}
	return nil
}

// SetMaxAmount sets the merchant's maximum amount per payment line, in
// cents (0 = no maximum).
func (r *Registry) SetMaxAmount(id string, cents int64) error {
	if cents < 0 {
		return fmt.Errorf("%w: the maximum amount cannot be negative", ErrInvalid)
	}
	return r.db.Update(func(tx *bbolt.Tx) error {
		m, err := getMerchant(tx, id)
		if err != nil {
			return err
		}
		m.MaxAmount = cents
		return putJSON(tx.Bucket(bucketMerchants), m.ID, m)
	})
}

// AddKey registers the keys found in authorizedKeys (authorized_keys
// format: one key a line, options allowed, blank lines and # comments
// skipped) to merchant, expiring at expires (zero: never). Options from=
// and expiry-time= are honoured (see applyOptions). It is all or nothing:
// one unparsable, refused or already registered key adds none.
func (r *Registry) AddKey(merchant string, authorizedKeys []byte, expires time.Time) ([]Key, error) {
	now := r.now().UTC()
	var added []Key
	lines := bytes.Split(authorizedKeys, []byte("\n"))
	for i, line := range lines {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, comment, options, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			if bytes.Contains(line, []byte("ssh-dss ")) {
				return nil, fmt.Errorf("%w: line %d is a DSA key", ErrWeakKey, i+1)
			}
			return nil, fmt.Errorf("%w (line %d)", ErrInvalidKey, i+1)
		}
		bits, err := checkPolicy(pub)
		if err != nil {
			return nil, fmt.Errorf("%w (line %d)", err, i+1)
		}
		k := Key{
			Fingerprint: Fingerprint(pub),
			Type:        pub.Type(),
			Bits:        bits,
			Comment:     comment,
			Merchant:    merchant,
			AddedAt:     now,
			PublicKey:   pub.Marshal(),
		}
		if err := applyOptions(&k, options); err != nil {
			return nil, fmt.Errorf("%w (line %d)", err, i+1)
		}
		// The earlier of --expires and an expiry-time option wins.
		if !expires.IsZero() && (k.ExpiresAt.IsZero() || expires.Before(k.ExpiresAt)) {
			k.ExpiresAt = expires.UTC()
		}
		if slices.ContainsFunc(added, func(o Key) bool { return o.Fingerprint == k.Fingerprint }) {
			return nil, fmt.Errorf("%w: %s appears twice in the input", ErrKeyTaken, k.Fingerprint)
		}
		added = append(added, k)
	}
	if len(added) == 0 {
		return nil, fmt.Errorf("%w: no key found", ErrInvalidKey)
	}
	err := r.db.Update(func(tx *bbolt.Tx) error {
		if _, err := getMerchant(tx, merchant); err != nil {
			return err
		}
		b := tx.Bucket(bucketKeys)
		for _, k := range added {
			if v := b.Get([]byte(k.Fingerprint)); v != nil {
				var o Key
				if json.Unmarshal(v, &o) == nil && o.Merchant != merchant {
					return fmt.Errorf("%w to another merchant: %s", ErrKeyTaken, k.Fingerprint)
				}
				return fmt.Errorf("%w: %s", ErrKeyTaken, k.Fingerprint)
			}
			if err := putJSON(b, k.Fingerprint, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// applyOptions honours the authorized_keys options that mean something
// for an SFTP-only service: from="..." (source addresses; only IPs and
// CIDR ranges, since a host-name pattern cannot be checked reliably) and
// expiry-time="YYYYMMDD[HHMM[SS]]" (UTC). The others (restrict, no-pty,
// command=, permitopen=...) are accepted and ignored: nothing but the
// sftp subsystem is ever served.
func applyOptions(k *Key, options []string) error {
	for _, opt := range options {
		name, value, hasValue := strings.Cut(opt, "=")
		if hasValue {
			v, err := strconv.Unquote(value)
			if err != nil {
				v = strings.Trim(value, `"`)
			}
			value = v
		}
		switch strings.ToLower(name) {
		case "from":
			for _, a := range strings.Split(value, ",") {
				a = strings.TrimSpace(a)
				if net.ParseIP(a) == nil {
					if _, _, err := net.ParseCIDR(a); err != nil {
						return fmt.Errorf("%w: from=%q must list IP addresses or CIDR ranges (no host names, wildcards or negations)", ErrInvalidKey, value)
					}
				}
				k.From = append(k.From, a)
			}
		case "expiry-time":
			var t time.Time
			var err error
			for _, layout := range []string{"20060102150405", "200601021504", "20060102"} {
				if len(value) == len(layout) {
					t, err = time.ParseInLocation(layout, value, time.UTC)
					break
				}
			}
			if t.IsZero() || err != nil {
				return fmt.Errorf("%w: expiry-time=%q is not YYYYMMDD[HHMM[SS]]", ErrInvalidKey, value)
			}
			k.ExpiresAt = t
		}
	}
	return nil
}

// checkPolicy applies SPEC §2's key policy and returns the key size in bits
// as ssh-keygen -l prints it.
func checkPolicy(pub ssh.PublicKey) (int, error) {
	switch pub.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoECDSA256:
		return 256, nil
	case ssh.KeyAlgoECDSA384:
		return 384, nil
	case ssh.KeyAlgoECDSA521:
		return 521, nil
	case ssh.KeyAlgoRSA:
		cpk, ok := pub.(ssh.CryptoPublicKey)
		if !ok {
			return 0, ErrWeakKey
		}
		rk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return 0, ErrWeakKey
		}
		bits := rk.N.BitLen()
		if bits < 2048 {
			return bits, fmt.Errorf("%w: RSA key of %d bits", ErrWeakKey, bits)
		}
		return bits, nil
	default:
		// DSA, certificates and anything newer than SPEC §2 lists.
		return 0, fmt.Errorf("%w: key type %s", ErrWeakKey, pub.Type())
	}
}

// Keys returns merchant's keys (all keys when merchant is ""), sorted by
// merchant then time added.
func (r *Registry) Keys(merchant string) ([]Key, error) {
	var out []Key
	err := r.db.View(func(tx *bbolt.Tx) error {
		if merchant != "" {
			if _, err := getMerchant(tx, merchant); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			var k Key
			if err := json.Unmarshal(v, &k); err != nil {
				return err
			}
			if merchant == "" || k.Merchant == merchant {
				out = append(out, k)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Merchant != out[j].Merchant {
			return out[i].Merchant < out[j].Merchant
		}
		if !out[i].AddedAt.Equal(out[j].AddedAt) {
			return out[i].AddedAt.Before(out[j].AddedAt)
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out, err
}

// Key returns the key with this fingerprint, or ErrNotFound.
func (r *Registry) Key(fingerprint string) (Key, error) {
	var k Key
	err := r.db.View(func(tx *bbolt.Tx) error {
		var err error
		k, err = getKey(tx, fingerprint)
		return err
	})
	return k, err
}

// Revoke revokes the key with this fingerprint and tells watchers, so that
// the sessions it opened are closed. Revoking a revoked key changes nothing
// and is not an error.
func (r *Registry) Revoke(fingerprint string) (Key, error) {
	var k Key
	err := r.db.Update(func(tx *bbolt.Tx) error {
		var err error
		k, err = getKey(tx, fingerprint)
		if err != nil {
			return err
		}
		if k.RevokedAt.IsZero() {
			k.RevokedAt = r.now().UTC()
			return putJSON(tx.Bucket(bucketKeys), k.Fingerprint, k)
		}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	r.notify(Event{Fingerprint: k.Fingerprint, Merchant: k.Merchant, Kind: EventRevoked})
	return k, nil
}

// Authenticate says whether pub may log in as merchant. It returns the key
// when it may, else ErrNotFound (no such merchant), ErrUnknownKey (key not
// registered to this merchant), ErrRevoked, ErrExpired or ErrSuspended.
func (r *Registry) Authenticate(merchant string, pub ssh.PublicKey) (Key, error) {
	fp := Fingerprint(pub)
	var k Key
	err := r.db.View(func(tx *bbolt.Tx) error {
		m, err := getMerchant(tx, merchant)
		if err != nil {
			return err
		}
		k, err = getKey(tx, fp)
		if errors.Is(err, ErrNotFound) {
			return ErrUnknownKey
		}
		if err != nil {
			return err
		}
		// Compare the whole key, not only its hash, and never tell a
		// merchant that the key belongs to someone else.
		if k.Merchant != merchant || !bytes.Equal(k.PublicKey, pub.Marshal()) {
			return ErrUnknownKey
		}
		switch k.State(r.now()) {
		case StateRevoked:
			return ErrRevoked
		case StateExpired:
			return ErrExpired
		}
		if m.Suspended {
			return ErrSuspended
		}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	return k, nil
}

// MarkUsed records that the key logged in at at.
func (r *Registry) MarkUsed(fingerprint string, at time.Time) error {
	return r.db.Update(func(tx *bbolt.Tx) error {
		k, err := getKey(tx, fingerprint)
		if err != nil {
			return err
		}
		if at.After(k.LastUsed) {
			k.LastUsed = at.UTC()
		}
		return putJSON(tx.Bucket(bucketKeys), k.Fingerprint, k)
	})
}

// Watch calls fn for every revocation and suspension made through this
// registry, from the goroutine that made it; fn must not block. cancel
// stops the calls.
func (r *Registry) Watch(fn func(ev Event)) (cancel func()) {
	r.mu.Lock()
	id := r.nextID
	r.nextID++
	r.watchers[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.watchers, id)
		r.mu.Unlock()
	}
}

func (r *Registry) notify(ev Event) {
	r.mu.Lock()
	fns := make([]func(Event), 0, len(r.watchers))
	for _, fn := range r.watchers {
		fns = append(fns, fn)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// Fingerprint is the key's SHA256 fingerprint exactly as ssh-keygen -l
// prints it ("SHA256:" and unpadded base64).
func Fingerprint(pub ssh.PublicKey) string { return ssh.FingerprintSHA256(pub) }

func getMerchant(tx *bbolt.Tx, id string) (Merchant, error) {
	var m Merchant
	v := tx.Bucket(bucketMerchants).Get([]byte(id))
	if v == nil {
		return m, fmt.Errorf("%w: merchant %q", ErrNotFound, id)
	}
	return m, json.Unmarshal(v, &m)
}

func getKey(tx *bbolt.Tx, fp string) (Key, error) {
	var k Key
	v := tx.Bucket(bucketKeys).Get([]byte(fp))
	if v == nil {
		return k, fmt.Errorf("%w: key %s", ErrNotFound, fp)
	}
	return k, json.Unmarshal(v, &k)
}

func putJSON(b *bbolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}
