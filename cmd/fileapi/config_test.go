package main

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseServe parses serve's flags the way the CLI does and loads the config.
func parseServe(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(fs)
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fileapi.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigDefaults(t *testing.T) {
	t.Setenv("FILEAPI_DATA", "")
	c, err := parseServe(t)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Data: "./data", SFTPAddr: ":2022", HTTPAddr: "127.0.0.1:8022", TimeZone: "Europe/Paris",
		Mode: "sandbox", LogLevel: slog.LevelInfo, LogFormat: "auto", ShutdownGrace: 30 * time.Second,
		ProcessSchedule: "@every 1m", ReportsSchedule: "30 0 * * *",
		MaxFileSize: 512 << 20, MaxSessionsPerMerchant: 10, MaxConnections: 1000,
		HandshakeTimeout: 10 * time.Second, IdleTimeout: 15 * time.Minute, SendWindow: 512 << 10,
		BanThreshold: 10, BanWindow: 5 * time.Minute, BanDuration: 15 * time.Minute,
	}
	if c.Location.String() != "Europe/Paris" || len(c.Fees) != 0 {
		t.Fatalf("location %v, fees %v", c.Location, c.Fees)
	}
	c.Location, c.Fees = nil, nil
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("defaults\n got %+v\nwant %+v", *c, want)
	}
}

func TestConfigPrecedenceFlagOverFileOverDefault(t *testing.T) {
	t.Parallel()
	p := writeConfig(t, `{"sftp_addr": ":3022", "http_addr": "127.0.0.1:9000", "limits": {"max_file_size": "1MiB", "idle_timeout": "1m"}, "fees": {"SDD": 25}}`)
	c, err := parseServe(t, "--config", p, "--sftp-addr", ":4022", "--fee", "REB=7")
	if err != nil {
		t.Fatal(err)
	}
	if c.SFTPAddr != ":4022" { // flag wins over the file
		t.Errorf("sftp addr %q", c.SFTPAddr)
	}
	if c.HTTPAddr != "127.0.0.1:9000" || c.MaxFileSize != 1<<20 || c.IdleTimeout != time.Minute { // file wins over defaults
		t.Errorf("file not applied: %+v", c)
	}
	if c.MaxConnections != 1000 { // default stays
		t.Errorf("max connections %d", c.MaxConnections)
	}
	if c.Fees["SDD"] != 25 || c.Fees["REB"] != 7 || c.Fees["RET"] != 0 {
		t.Errorf("fees %v", c.Fees)
	}
	for flag, want := range map[string]int64{"0": 0, "1MiB": 1 << 20} {
		c, err := parseServe(t, "--send-window", flag)
		if err != nil {
			t.Fatalf("--send-window %s: %v", flag, err)
		}
		if c.SendWindow != want {
			t.Errorf("--send-window %s: %d, want %d", flag, c.SendWindow, want)
		}
	}
}

func TestExampleConfigIsValidAndComplete(t *testing.T) {
	t.Parallel()
	c, err := parseServe(t, "--config", "../../fileapi.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Data != "/var/lib/fileapi" {
		t.Fatalf("example not applied: %+v", c)
	}
	example, _ := os.ReadFile("../../fileapi.example.json")
	doc, _ := os.ReadFile("../../docs/CONFIG.md")
	for _, s := range settings {
		last := s.path[strings.LastIndex(s.path, ".")+1:]
		if !strings.Contains(string(example), `"`+last+`"`) {
			t.Errorf("fileapi.example.json lacks %s", s.path)
		}
		if !strings.Contains(string(doc), "`"+s.path+"`") || !strings.Contains(string(doc), "`--"+s.flag) {
			t.Errorf("docs/CONFIG.md does not document %s / --%s", s.path, s.flag)
		}
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want string
	}{
		{`{"limits": {"max_file_size": "-5"}}`, "config: limits.max_file_size: must be a positive size"},
		{`{"limits": {"max_file_size": "lots"}}`, "config: limits.max_file_size: must be a positive size"},
		{`{"limits": {"max_filesize": "5MB"}}`, "config: limits.max_filesize: unknown field"},
		{`{"sftp_port": 22}`, "config: sftp_port: unknown field"},
		{`{"limits": {"max_connections": "1000"}}`, "config: limits.max_connections: must be a number"},
		{`{"limits": {"max_connections": 0}}`, "config: limits.max_connections: must be a positive whole number"},
		{`{"limits": {"idle_timeout": 900}}`, "config: limits.idle_timeout: must be a duration"},
		{`{"limits": {"idle_timeout": "soon"}}`, "config: limits.idle_timeout: must be a positive duration"},
		{`{"limits": 5}`, "config: limits: must be an object"},
		{`{"limits": {"send_window": "1KiB"}}`, "config: limits.send_window: must be 0 or a size from 32KiB to 4GiB"},
		{`{"time_zone": "Mars/Olympus"}`, "config: time_zone: must be an IANA time zone"},
		{`{"mode": "live"}`, "config: mode: must be \"sandbox\" or \"production\""},
		{`{"schedules": {"reports": "every day"}}`, "config: schedules.reports: must be a cron expression"},
		{`{"fees": {"SDD": -1}}`, "config: fees.SDD: must be a whole number of cents"},
		{`{"fees": {"SDD": 1.5}}`, "config: fees.SDD: must be a whole number of cents"},
		{`{"fees": {"XYZ": 1}}`, "config: fees.XYZ: unknown OP code"},
		{`{"log_level": "loud"}`, "config: log_level: must be"},
		{`{"sftp_addr": "localhost"}`, "config: sftp_addr: must be an address"},
		{`{"ban": {"threshold": 10,}}`, "config: invalid JSON at line 1"},
		{``, "config: the file is empty"},
		{`[1]`, "config: the file must hold one JSON object"},
		{`{} {}`, "config: unexpected data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := parseServe(t, "--config", writeConfig(t, tt.body))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"512MiB", 512 << 20}, {"10MB", 10e6}, {"1048576", 1 << 20}, {"1GiB", 1 << 30}, {"2kb", 2000}, {"3kib", 3 << 10}, {"7B", 7},
		{"0", 0}, {"-1", 0}, {"1.5MB", 0}, {"MB", 0}, {"99999999999999GiB", 0},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if tt.want == 0 {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// The binary stops at start with the one-line error naming the field.
func TestServeRefusesABadConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeConfig(t, `{"limits": {"max_file_size": "0"}}`)
	r := fileapi(t, dir, "", "serve", "--config", p, "--data", filepath.Join(dir, "data"))
	if r.code != 1 || r.stderr != "fileapi: config: limits.max_file_size: must be a positive size like 512MiB, 10MB or a number of bytes\n" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Fatal("serve created the data directory despite the bad config")
	}
}
