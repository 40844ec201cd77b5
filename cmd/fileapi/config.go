package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Config is the effective configuration of `fileapi serve`: defaults,
// overridden by the config file, overridden by flags (docs/CONFIG.md).
type Config struct {
	Data          string
	SFTPAddr      string
	HTTPAddr      string
	TimeZone      string
	Location      *time.Location
	Mode          string // "sandbox" or "production"
	LogLevel      slog.Level
	LogFormat     string // "auto", "text" or "json"
	ShutdownGrace time.Duration

	ProcessSchedule string
	ReportsSchedule string

	MaxFileSize            int64
	MaxSessionsPerMerchant int
	MaxConnections         int
	HandshakeTimeout       time.Duration
	IdleTimeout            time.Duration
	SendWindow             int64 // 0: the client's whole window

	BanThreshold int
	BanWindow    time.Duration
	BanDuration  time.Duration

	// Fees in cents per OP code (SDD, RET, REB), booked as FEE-<OP> lines.
	Fees map[string]int64
}

// Modes.
const (
	modeSandbox    = "sandbox"
	modeProduction = "production"
)

// feeOps are the OP codes a fee can be set for (FORMATS.md §4.1).
var feeOps = []string{"SDD", "RET", "REB"}

type settingKind int

const (
	kindString settingKind = iota
	kindInt
	kindSize
	kindDuration
)

// setting is one configuration value: its place in the JSON file, its flag,
// its default and how it is checked. Flag and file go through the same set
// function, so they accept exactly the same values.
type setting struct {
	path  string // in the config file: "limits.max_file_size"
	flag  string // "max-file-size"
	kind  settingKind
	def   string
	usage string
	set   func(c *Config, v string) error // errors say what the value must be
}

var settings = []setting{
	{"data", "data", kindString, "", "data directory (default $FILEAPI_DATA, else ./data)", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.Data = v
		return nil
	}},
	{"sftp_addr", "sftp-addr", kindString, ":2022", "SFTP listen address", setAddr(func(c *Config) *string { return &c.SFTPAddr })},
	{"http_addr", "http-addr", kindString, "127.0.0.1:8022", "health and metrics listen address", setAddr(func(c *Config) *string { return &c.HTTPAddr })},
	{"time_zone", "tz", kindString, "Europe/Paris", "time zone of business days and reports", func(c *Config, v string) error {
		loc, err := time.LoadLocation(v)
		if err != nil || v == "" || v == "Local" {
			return errors.New("must be an IANA time zone like Europe/Paris")
		}
		c.TimeZone, c.Location = v, loc
		return nil
	}},
	{"mode", "mode", kindString, modeSandbox, "sandbox (movable clock, test triggers) or production", func(c *Config, v string) error {
		if v != modeSandbox && v != modeProduction {
			return errors.New(`must be "sandbox" or "production"`)
		}
		c.Mode = v
		return nil
	}},
	{"log_level", "log-level", kindString, "info", "debug, info, warn or error", func(c *Config, v string) error {
		var l slog.Level
		if err := l.UnmarshalText([]byte(v)); err != nil || strings.ContainsAny(v, "+-") {
			return errors.New(`must be "debug", "info", "warn" or "error"`)
		}
		c.LogLevel = l
		return nil
	}},
	{"log_format", "log-format", kindString, "auto", "auto (text on a terminal, JSON otherwise), text or json", func(c *Config, v string) error {
		if v != "auto" && v != "text" && v != "json" {
			return errors.New(`must be "auto", "text" or "json"`)
		}
		c.LogFormat = v
		return nil
	}},
	{"shutdown_grace", "shutdown-grace", kindDuration, "30s", "how long running transfers may finish on SIGTERM", setDuration(func(c *Config) *time.Duration { return &c.ShutdownGrace })},
	{"schedules.process", "process-schedule", kindString, "@every 1m", "cron schedule of processing and settlement", setCron(func(c *Config) *string { return &c.ProcessSchedule })},
	{"schedules.reports", "reports-schedule", kindString, "30 0 * * *", "cron schedule of the daily reports (in --tz)", setCron(func(c *Config) *string { return &c.ReportsSchedule })},
	{"limits.max_file_size", "max-file-size", kindSize, "512MiB", "largest upload (bytes, or with KB/MB/GB/KiB/MiB/GiB)", func(c *Config, v string) error {
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		c.MaxFileSize = n
		return nil
	}},
	{"limits.sessions_per_merchant", "max-sessions-per-merchant", kindInt, "10", "SSH sessions one merchant may hold at once", setPositiveInt(func(c *Config) *int { return &c.MaxSessionsPerMerchant })},
	{"limits.max_connections", "max-connections", kindInt, "1000", "SSH connections in total", setPositiveInt(func(c *Config) *int { return &c.MaxConnections })},
	{"limits.handshake_timeout", "handshake-timeout", kindDuration, "10s", "time allowed for the SSH handshake and login", setDuration(func(c *Config) *time.Duration { return &c.HandshakeTimeout })},
	{"limits.idle_timeout", "idle-timeout", kindDuration, "15m", "an SSH connection idle this long is closed", setDuration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"limits.send_window", "send-window", kindSize, "512KiB", "download data kept in flight per session while the client keeps up (0: the client's whole SSH window)", func(c *Config, v string) error {
		if strings.TrimSpace(v) == "0" {
			c.SendWindow = 0
			return nil
		}
		n, err := parseSize(v)
		if err != nil || n < 32<<10 || n > math.MaxUint32 {
			return errors.New("must be 0 or a size from 32KiB to 4GiB, like 512KiB")
		}
		c.SendWindow = n
		return nil
	}},
	{"ban.threshold", "ban-threshold", kindInt, "10", "failed logins from one address that trigger a ban", setPositiveInt(func(c *Config) *int { return &c.BanThreshold })},
	{"ban.window", "ban-window", kindDuration, "5m", "period over which failed logins are counted", setDuration(func(c *Config) *time.Duration { return &c.BanWindow })},
	{"ban.duration", "ban-duration", kindDuration, "15m", "how long a banned address is refused", setDuration(func(c *Config) *time.Duration { return &c.BanDuration })},
}

func setAddr(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		host, port, err := splitHostPort(v)
		if err != nil {
			return err
		}
		_ = host
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return errors.New("must be an address like :2022 or 127.0.0.1:8022")
		}
		*field(c) = v
		return nil
	}
}

func splitHostPort(v string) (string, string, error) {
	i := strings.LastIndex(v, ":")
	if i < 0 || strings.TrimSpace(v) != v {
		return "", "", errors.New("must be an address like :2022 or 127.0.0.1:8022")
	}
	return v[:i], v[i+1:], nil
}

func setDuration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration like 30s, 15m or 1h")
		}
		*field(c) = d
		return nil
	}
}

func setPositiveInt(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive whole number")
		}
		*field(c) = n
		return nil
	}
}

func setCron(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if _, err := cron.ParseStandard(v); err != nil {
			return fmt.Errorf("must be a cron expression like \"30 0 * * *\" or \"@every 1m\" (%v)", err)
		}
		*field(c) = v
		return nil
	}
}

var sizeRe = regexp.MustCompile(`^([0-9]+)\s*([A-Za-z]*)$`)

// sizeUnits are the accepted units, by lower-case name: KB/MB/GB are
// powers of 1000, KiB/MiB/GiB powers of 1024.
var sizeUnits = map[string]int64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}

// parseSize reads "512MiB", "10MB", "1048576".
func parseSize(v string) (int64, error) {
	bad := errors.New("must be a positive size like 512MiB, 10MB or a number of bytes")
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, bad
	}
	mult, ok := sizeUnits[strings.ToLower(m[2])]
	n, err := strconv.ParseInt(m[1], 10, 64)
	if !ok || err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, bad
	}
	return n * mult, nil
}

// feeFlag collects repeated --fee OP=CENTS flags.
type feeFlag []string

func (f *feeFlag) String() string     { return strings.Join(*f, ",") }
func (f *feeFlag) Set(v string) error { *f = append(*f, v); return nil }

func setFee(c *Config, op, cents string) error {
	ok := false
	for _, o := range feeOps {
		ok = ok || o == op
	}
	if !ok {
		return fmt.Errorf("unknown OP code %q (fees can be set for %s)", op, strings.Join(feeOps, ", "))
	}
	n, err := strconv.ParseInt(cents, 10, 64)
	if err != nil || n < 0 || n > 1e11 {
		return errors.New("must be a whole number of cents, 0 or more")
	}
	if c.Fees == nil {
		c.Fees = map[string]int64{}
	}
	c.Fees[op] = n
	return nil
}

// serveFlags declares every setting as a flag of `serve`.
func serveFlags(fs *flag.FlagSet) {
	fs.String("config", "", "JSON configuration file (docs/CONFIG.md)")
	for _, s := range settings {
		def := s.def
		if s.flag == "data" {
			def = defaultDataDir()
		}
		fs.String(s.flag, def, s.usage)
	}
	fs.Var(new(feeFlag), "fee", "fee in cents per OP code, OP=CENTS (repeatable, e.g. --fee SDD=25)")
}

// loadConfig builds the configuration: defaults, then the file named by
// --config, then the flags given on the command line.
func loadConfig(fs *flag.FlagSet) (*Config, error) {
	c := &Config{Fees: map[string]int64{}}
	for _, s := range settings {
		def := s.def
		if s.flag == "data" {
			def = defaultDataDir()
		}
		if err := s.set(c, def); err != nil {
			return nil, fmt.Errorf("default %s: %v", s.path, err) // a bug, not a user error
		}
	}
	if name := fs.Lookup("config").Value.String(); name != "" {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("config: cannot read %s: %v", name, pathErrReason(err))
		}
		if err := applyConfigFile(c, b); err != nil {
			return nil, err
		}
	}
	var ferr error
	fs.Visit(func(f *flag.Flag) {
		if ferr != nil {
			return
		}
		if f.Name == "fee" {
			for _, v := range *f.Value.(*feeFlag) {
				op, cents, ok := strings.Cut(v, "=")
				if !ok {
					ferr = usagef("--fee: must be OP=CENTS, like SDD=25")
					return
				}
				if err := setFee(c, op, cents); err != nil {
					ferr = usagef("--fee %s: %v", v, err)
					return
				}
			}
			return
		}
		for _, s := range settings {
			if s.flag == f.Name {
				if err := s.set(c, f.Value.String()); err != nil {
					ferr = usagef("--%s: %v", s.flag, err)
				}
			}
		}
	})
	return c, ferr
}

// applyConfigFile applies a JSON config file. Unknown fields are refused
// (a misspelt setting silently ignored is the worst kind of bug in a
// payment service), and every error names the field in the file's terms.
func applyConfigFile(c *Config, b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return fmt.Errorf("config: %s", jsonErrorText(b, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("config: unexpected data after the JSON object")
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return errors.New("config: the file must hold one JSON object")
	}
	groups := map[string]bool{}
	for _, s := range settings {
		if g, _, ok := strings.Cut(s.path, "."); ok {
			groups[g] = true
		}
	}
	for _, key := range sortedKeys(obj) {
		val := obj[key]
		if key == "fees" {
			if err := applyFees(c, val); err != nil {
				return err
			}
			continue
		}
		if groups[key] {
			sub, ok := val.(map[string]any)
			if !ok {
				return fmt.Errorf("config: %s: must be an object", key)
			}
			for _, k2 := range sortedKeys(sub) {
				if err := applyValue(c, key+"."+k2, sub[k2]); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyValue(c, key, val); err != nil {
			return err
		}
	}
	return nil
}

func applyValue(c *Config, path string, val any) error {
	for _, s := range settings {
		if s.path != path {
			continue
		}
		var v string
		switch x := val.(type) {
		case string:
			if s.kind == kindInt {
				return fmt.Errorf("config: %s: must be a number, not a string", path)
			}
			v = x
		case json.Number:
			if s.kind != kindInt && s.kind != kindSize {
				if s.kind == kindDuration {
					return fmt.Errorf("config: %s: must be a duration string like \"30s\"", path)
				}
				return fmt.Errorf("config: %s: must be a string", path)
			}
			v = x.String()
		default:
			return fmt.Errorf("config: %s: must be a %s", path, map[settingKind]string{kindString: "string", kindInt: "number", kindSize: "size", kindDuration: "duration string"}[s.kind])
		}
		if err := s.set(c, v); err != nil {
			return fmt.Errorf("config: %s: %v", path, err)
		}
		return nil
	}
	return fmt.Errorf("config: %s: unknown field (see docs/CONFIG.md)", path)
}

func applyFees(c *Config, val any) error {
	m, ok := val.(map[string]any)
	if !ok {
		return errors.New("config: fees: must be an object of OP code to cents, like {\"SDD\": 25}")
	}
	for _, op := range sortedKeys(m) {
		n, ok := m[op].(json.Number)
		if !ok {
			return fmt.Errorf("config: fees.%s: must be a whole number of cents", op)
		}
		if err := setFee(c, op, n.String()); err != nil {
			return fmt.Errorf("config: fees.%s: %v", op, err)
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonErrorText gives the line and column of a JSON syntax error.
func jsonErrorText(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, ch := range b[:min(int(se.Offset), len(b))] {
			if ch == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, se)
	}
	if errors.Is(err, io.EOF) {
		return "the file is empty"
	}
	return "invalid JSON: " + err.Error()
}
