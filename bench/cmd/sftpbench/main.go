// Command sftpbench measures `fileapi serve` against a throwaway OpenSSH
// sshd on the same machine (docs/BENCHMARKS.md "SFTP vs OpenSSH"): bulk
// upload and download, one and several streams, per cipher, with the
// OpenSSH sftp client and an in-process pkg/sftp client; new connections
// per second; and, fileapi only, many sessions uploading PAYMENTS files at
// once with the time to their .ack. Runs alternate between the servers
// and the tables give medians. bench/run.sh builds and runs it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"fileapi/bench"
)

type options struct {
	fileapiBin, sshdBin, sftpBin string
	dir, out                     string
	fileapiArgs                  string
	size                         int64
	streams                      int
	runs                         int
	ciphers                      []string
	connDur                      time.Duration
	connWorkers                  int
	sessions, lines, merchants   int
	profile                      time.Duration
	skip                         map[string]bool
	only                         string
}

func main() {
	var o options
	var ciphers, skip string
	var sizeMiB int64
	flag.StringVar(&o.fileapiBin, "fileapi", "bin/fileapi", "fileapi binary")
	flag.StringVar(&o.sshdBin, "sshd", "/usr/sbin/sshd", "OpenSSH sshd binary")
	flag.StringVar(&o.sftpBin, "sftp", "sftp", "OpenSSH sftp client")
	flag.StringVar(&o.dir, "dir", "", "where to make the work directory (default: $TMPDIR); it is removed at the end")
	flag.StringVar(&o.out, "out", "", "directory for results.json and CPU profiles (default: inside -dir)")
	flag.Int64Var(&sizeMiB, "size-mib", 1024, "size of the bulk transfer file, MiB")
	flag.IntVar(&o.streams, "streams", 4, "parallel streams of the multi-stream transfers (each moves size/streams)")
	flag.IntVar(&o.runs, "runs", 3, "runs of every measurement, alternating the servers")
	flag.StringVar(&ciphers, "ciphers", "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com", "ciphers to measure")
	flag.DurationVar(&o.connDur, "conn-duration", 30*time.Second, "length of one connections-per-second measurement")
	flag.IntVar(&o.connWorkers, "conn-workers", 4, "concurrent connecting clients")
	flag.IntVar(&o.sessions, "sessions", 200, "concurrent sessions of the .ack test")
	flag.IntVar(&o.lines, "lines", 1000, "payment lines of each file of the .ack test")
	flag.IntVar(&o.merchants, "merchants", 20, "merchants sharing the .ack test's sessions (10 sessions each at the default limit)")
	flag.DurationVar(&o.profile, "profile", 0, "after the measurements, take CPU profiles of fileapi this long per workload (0: none)")
	flag.StringVar(&skip, "skip", "", "comma-separated parts to skip: xfer,cli,conn,acks")
	flag.StringVar(&o.fileapiArgs, "fileapi-args", "", "extra flags of fileapi serve, space-separated (e.g. \"--send-window 0\" to compare settings)")
	flag.StringVar(&o.only, "only", "", "measure only this server (fileapi, openssh or openssh+fsync), e.g. to compare two fileapi builds")
	flag.Parse()
	o.size = sizeMiB << 20
	o.ciphers = strings.Split(ciphers, ",")
	o.skip = map[string]bool{}
	for _, s := range strings.Split(skip, ",") {
		o.skip[strings.TrimSpace(s)] = true
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "sftpbench:", err)
		os.Exit(1)
	}
}

// sample is one measurement.
type sample struct {
	Test   string  `json:"test"`   // "upload aes128-gcm 1 stream, sftp"
	Server string  `json:"server"` // fileapi, openssh, openssh+fsync
	Run    int     `json:"run"`
	Value  float64 `json:"value"` // MB/s or connections/s
	Unit   string  `json:"unit"`
	Load   string  `json:"load"`
	Err    string  `json:"error,omitempty"`
}

type bencher struct {
	o       options
	fa      *bench.Fileapi
	sshd    *bench.SSHD
	faT     bench.Target
	osT     bench.Target
	faCLI   bench.CLI
	osCLI   bench.CLI
	data    string // local source files
	osUp    string // OpenSSH upload folder
	samples []sample
	notes   []string
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func run(o options) (err error) {
	ctx := context.Background()
	b := &bencher{o: o}
	if o.dir, err = os.MkdirTemp(o.dir, "sftpbench-"); err != nil {
		return err
	}
	b.o.dir = o.dir
	defer os.RemoveAll(o.dir)
	if o.out == "" {
		o.out = filepath.Join(o.dir, "results")
		b.o.out = o.out
	}
	for _, d := range []string{o.out, filepath.Join(o.dir, "src"), filepath.Join(o.dir, "sshd"), filepath.Join(o.dir, "sshd-up"), filepath.Join(o.dir, "fileapi")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	b.data, b.osUp = filepath.Join(o.dir, "src"), filepath.Join(o.dir, "sshd-up")
	logf("machine: %d CPUs, %s; load %s", runtime.NumCPU(), cpuModel(), bench.LoadAvg())

	// Source files: the whole file and its parts, random (incompressible).
	logf("writing %d MiB of random data", o.size>>20)
	if err := writeRandom(filepath.Join(b.data, "big.bin"), o.size); err != nil {
		return err
	}
	for i := range o.streams {
		if err := copyRange(filepath.Join(b.data, "big.bin"), filepath.Join(b.data, fmt.Sprintf("part%d.bin", i)), int64(i)*(o.size/int64(o.streams)), o.size/int64(o.streams)); err != nil {
			return err
		}
	}
	// The source files are twice the transfer size of dirty pages: written
	// back now, not during the first measurements.
	syscall.Sync()

	// fileapi with profiler endpoints, files up to 4 GiB.
	env := []string{}
	if o.profile > 0 {
		env = append(env, "FILEAPI_PPROF=1")
	}
	data := filepath.Join(o.dir, "fileapi")
	// Processing (every minute by default) would process the .ack test's
	// 200,000 lines during whatever measurement comes next: moved out of
	// the way, so each figure measures what it says.
	args := append([]string{"--max-file-size", "4GiB", "--process-schedule", "@every 6h"}, strings.Fields(o.fileapiArgs)...)
	if b.fa, err = bench.StartFileapi(o.fileapiBin, data, env, args...); err != nil {
		return err
	}
	defer b.fa.Stop()
	merchants := make([]bench.Merchant, max(o.merchants, 1))
	logf("fileapi on %s; registering %d merchants through the CLI", b.fa.SFTPAddr, len(merchants))
	for i := range merchants {
		id := fmt.Sprintf("bench%02d", i)
		s, err := bench.NewKey(filepath.Join(o.dir, id+"_ed25519"))
		if err != nil {
			return err
		}
		merchants[i] = bench.Merchant{ID: id, CreditorRef: "BENCH-" + id, Signer: s}
		if err := b.fa.AddMerchant(merchants[i]); err != nil {
			return err
		}
	}
	m0 := merchants[0]
	b.faT = bench.Target{Addr: b.fa.SFTPAddr, User: m0.ID, Signer: m0.Signer}
	b.faCLI = bench.CLI{Bin: o.sftpBin, Addr: b.fa.SFTPAddr, User: m0.ID, KeyFile: filepath.Join(o.dir, m0.ID+"_ed25519")}
	// The download sources in merchant bench00's out/ (hard links).
	out := filepath.Join(data, "merchants", m0.ID, "out")
	if err := os.MkdirAll(out, 0o750); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(data, "merchants", m0.ID, "in"), 0o750); err != nil {
		return err
	}
	ents, _ := os.ReadDir(b.data)
	for _, e := range ents {
		if err := os.Link(filepath.Join(b.data, e.Name()), filepath.Join(out, e.Name())); err != nil {
			return err
		}
	}

	if b.sshd, err = bench.StartSSHD(o.sshdBin, filepath.Join(o.dir, "sshd"), m0.Signer.PublicKey()); err != nil {
		return err
	}
	defer b.sshd.Stop()
	b.osT = bench.Target{Addr: b.sshd.Addr, User: b.sshd.User, Signer: m0.Signer}
	b.osCLI = bench.CLI{Bin: o.sftpBin, Addr: b.sshd.Addr, User: b.sshd.User, KeyFile: b.faCLI.KeyFile}
	logf("sshd on %s (user %s)", b.sshd.Addr, b.sshd.User)

	// Warm-up, not measured: the first transfer into a freshly started
	// fileapi was always the slowest of its row (docs/BENCHMARKS.md,
	// table 6), and no figure should depend on coming first.
	if !o.skip["xfer"] {
		logf("warm-up: one upload and one download on each server, not measured")
		for _, srv := range []string{"fileapi", "openssh"} {
			for _, dir := range []string{"upload", "download"} {
				if _, err := b.transfer(ctx, srv, "pkg/sftp", dir, o.ciphers[0], 1); err != nil {
					return fmt.Errorf("warm-up %s %s: %w", dir, srv, err)
				}
			}
		}
	}

	for r := 1; r <= o.runs; r++ {
		if !o.skip["xfer"] {
			if err := b.transfers(ctx, r); err != nil {
				return err
			}
		}
		if !o.skip["conn"] {
			b.connRate(ctx, r)
		}
	}
	if !o.skip["acks"] {
		for r := 1; r <= o.runs; r++ {
			b.acks(ctx, r, merchants)
		}
	}
	if o.profile > 0 {
		b.profiles(ctx, merchants)
	}
	b.report()
	return nil
}

// servers in the order of run r: alternate who goes first.
func (b *bencher) order(r int, names ...string) []string {
	if b.o.only != "" {
		return []string{b.o.only}
	}
	if r%2 == 0 {
		for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
			names[i], names[j] = names[j], names[i]
		}
	}
	return names
}

func short(cipher string) string { return strings.TrimSuffix(cipher, "@openssh.com") }

func (b *bencher) transfers(ctx context.Context, r int) error {
	for _, cipher := range b.o.ciphers {
		for _, n := range []int{1, b.o.streams} {
			for _, client := range []string{"pkg/sftp", "sftp"} {
				if client == "sftp" && b.o.skip["cli"] {
					continue
				}
				for _, dir := range []string{"upload", "download"} {
					servers := []string{"fileapi", "openssh"}
					if dir == "upload" {
						servers = append(servers, "openssh+fsync")
					}
					test := fmt.Sprintf("%s %s %d stream(s), %s", dir, short(cipher), n, client)
					for _, srv := range b.order(r, servers...) {
						c0 := b.serverCPU(srv)
						res, err := b.transfer(ctx, srv, client, dir, cipher, n)
						cpu := b.serverCPU(srv) - c0
						s := sample{Test: test, Server: srv, Run: r, Value: res.MBps(), Unit: "MB/s", Load: bench.LoadAvg()}
						if err != nil {
							s.Err = err.Error()
						}
						b.samples = append(b.samples, s)
						// Server CPU seconds per GB moved: unlike the wall
						// clock, barely affected by the neighbours' load.
						cs := sample{Test: test + ": server CPU", Server: srv, Run: r, Value: cpu.Seconds() / (float64(b.o.size) / 1e9), Unit: "CPU s/GB", Load: s.Load}
						b.samples = append(b.samples, cs)
						logf("run %d  %-45s %-14s %7.1f MB/s  %5.2f CPU s/GB  load %s %s", r, test, srv, s.Value, cs.Value, s.Load, s.Err)
					}
				}
			}
		}
	}
	return nil
}

// serverCPU is the CPU used so far by fileapi, or by sshd and its
// finished connections.
func (b *bencher) serverCPU(srv string) time.Duration {
	if srv == "fileapi" {
		self, _, _ := bench.ProcCPU(b.fa.Pid())
		return self
	}
	time.Sleep(300 * time.Millisecond) // let sshd reap its connection processes
	self, children, _ := bench.ProcCPU(b.sshd.Pid())
	return self + children
}

// jobs of a transfer with n streams: the whole file, or its n parts.
func (b *bencher) local(n int) []string {
	if n == 1 {
		return []string{filepath.Join(b.data, "big.bin")}
	}
	var l []string
	for i := range n {
		l = append(l, filepath.Join(b.data, fmt.Sprintf("part%d.bin", i)))
	}
	return l
}

func (b *bencher) transfer(ctx context.Context, srv, client, dir, cipher string, n int) (bench.Result, error) {
	var jobs []bench.Job
	for i, l := range b.local(n) {
		j := bench.Job{Local: l}
		switch {
		case dir == "download" && srv == "fileapi":
			j.Remote = "/out/" + filepath.Base(l)
		case dir == "download":
			j.Remote = l
		case srv == "fileapi":
			j.Remote = fmt.Sprintf("/in/up%d.bin", i)
		default:
			j.Remote = filepath.Join(b.osUp, fmt.Sprintf("up%d.bin", i))
		}
		jobs = append(jobs, j)
	}
	t, cli := b.osT, b.osCLI
	if srv == "fileapi" {
		t, cli = b.faT, b.faCLI
	}
	fsync := srv == "openssh+fsync"
	var res bench.Result
	var err error
	switch client {
	case "pkg/sftp":
		if dir == "upload" {
			res, err = bench.Upload(ctx, t, cipher, jobs, fsync)
		} else {
			res, err = bench.Download(ctx, t, cipher, jobs)
		}
	default:
		var batches []string
		for _, j := range jobs {
			if dir == "upload" {
				put := "put"
				if fsync {
					put = "put -f"
				}
				batches = append(batches, fmt.Sprintf("%s %s %s\n", put, j.Local, j.Remote))
			} else {
				batches = append(batches, fmt.Sprintf("get %s /dev/null\n", j.Remote))
			}
		}
		res, err = cli.Parallel(ctx, cipher, batches, b.o.size)
	}
	if client == "pkg/sftp" && err == nil && res.Bytes != b.o.size {
		err = fmt.Errorf("moved %d bytes, want %d", res.Bytes, b.o.size)
	}
	// Clean up the uploads outside the clock.
	if dir == "upload" {
		for i := range jobs {
			if srv == "fileapi" {
				os.Remove(filepath.Join(b.fa.Data, "merchants", b.faT.User, "in", fmt.Sprintf("up%d.bin", i)))
			} else {
				os.Remove(filepath.Join(b.osUp, fmt.Sprintf("up%d.bin", i)))
			}
		}
	}
	return res, err
}

func (b *bencher) connRate(ctx context.Context, r int) {
	cipher := b.o.ciphers[0]
	for _, client := range []string{"pkg/sftp", "sftp"} {
		if client == "sftp" && b.o.skip["cli"] {
			continue
		}
		test := fmt.Sprintf("connections/s (%d clients, %s), %s", b.o.connWorkers, short(cipher), client)
		for _, srv := range b.order(r, "fileapi", "openssh") {
			t, cli := b.osT, b.osCLI
			if srv == "fileapi" {
				t, cli = b.faT, b.faCLI
			}
			var ok, failed int64
			var err error
			start := time.Now()
			if client == "pkg/sftp" {
				ok, failed, err = bench.ConnRate(ctx, t, cipher, b.o.connDur, b.o.connWorkers)
			} else {
				ok, failed, err = cli.ConnRate(ctx, cipher, b.o.connDur, b.o.connWorkers)
			}
			s := sample{Test: test, Server: srv, Run: r, Value: float64(ok) / time.Since(start).Seconds(), Unit: "conn/s", Load: bench.LoadAvg()}
			if failed > 0 {
				s.Err = fmt.Sprintf("%d failed: %v", failed, err)
			}
			b.samples = append(b.samples, s)
			logf("run %d  %-45s %-14s %7.1f conn/s  load %s %s", r, test, srv, s.Value, s.Load, s.Err)
		}
	}
}

func (b *bencher) acks(ctx context.Context, r int, merchants []bench.Merchant) {
	res := bench.AckStorm(ctx, b.fa.SFTPAddr, b.fa.Data, b.o.ciphers[0], merchants, b.o.sessions, b.o.lines, fmt.Sprintf("PAY-r%d", r), 120*time.Second)
	var lat []float64
	for _, l := range res.Latencies {
		lat = append(lat, l.Seconds())
	}
	load := bench.LoadAvg()
	test := fmt.Sprintf("%d sessions × %d-line PAYMENTS (%d merchants)", b.o.sessions, b.o.lines, len(merchants))
	add := func(what string, v float64, unit string) {
		s := sample{Test: test + ": " + what, Server: "fileapi", Run: r, Value: v, Unit: unit, Load: load}
		if what == "errors" && res.FirstErr != nil {
			s.Err = res.FirstErr.Error()
		}
		b.samples = append(b.samples, s)
	}
	add("all acknowledged after", res.Total.Seconds(), "s")
	add("p50 close→.ack", bench.Percentile(lat, 50), "s")
	add("p99 close→.ack", bench.Percentile(lat, 99), "s")
	add("acknowledged", float64(res.Acked), "files")
	add("errors", float64(res.Errors), "")
	logf("run %d  acks: %d/%d acknowledged in %.2fs, p50 %.3fs p99 %.3fs, %d errors (%v), load %s", r, res.Acked, res.Sessions,
		res.Total.Seconds(), bench.Percentile(lat, 50), bench.Percentile(lat, 99), res.Errors, res.FirstErr, load)
}

// profiles runs each workload against fileapi alone while a CPU profile
// of it is taken, and prints the top of each.
func (b *bencher) profiles(ctx context.Context, merchants []bench.Merchant) {
	cipher := b.o.ciphers[0]
	loop := func(fn func() error) func(context.Context) error {
		return func(ctx context.Context) error {
			for ctx.Err() == nil {
				if err := fn(); err != nil && ctx.Err() == nil {
					return err
				}
			}
			return nil
		}
	}
	n := 0
	work := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"upload", loop(func() error {
			_, err := b.transfer(ctx, "fileapi", "pkg/sftp", "upload", cipher, 1)
			return err
		})},
		{"download", loop(func() error {
			_, err := b.transfer(ctx, "fileapi", "pkg/sftp", "download", cipher, 1)
			return err
		})},
		{"connections", func(ctx context.Context) error {
			_, _, err := bench.ConnRate(ctx, b.faT, cipher, b.o.profile, b.o.connWorkers)
			return err
		}},
		{"acks", loop(func() error {
			n++
			res := bench.AckStorm(ctx, b.fa.SFTPAddr, b.fa.Data, cipher, merchants, b.o.sessions, b.o.lines, fmt.Sprintf("PROF%d", n), 60*time.Second)
			return res.FirstErr
		})},
	}
	for _, w := range work {
		path := filepath.Join(b.o.out, "cpu-"+w.name+".pprof")
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.fn(wctx) }()
		err := b.fa.CPUProfile(ctx, b.o.profile, path)
		cancel()
		werr := <-done
		if err != nil {
			b.notes = append(b.notes, fmt.Sprintf("profile %s: %v", w.name, err))
			continue
		}
		if werr != nil {
			b.notes = append(b.notes, fmt.Sprintf("profile %s: workload: %v", w.name, werr))
		}
		top, _ := exec.Command("go", "tool", "pprof", "-top", "-nodecount", "25", b.o.fileapiBin, path).CombinedOutput()
		logf("profile %s: %s\n%s", w.name, path, top)
		b.notes = append(b.notes, fmt.Sprintf("profile %s: %s", w.name, path))
	}
}

// report prints the tables (markdown) and writes results.json.
func (b *bencher) report() {
	if f, err := os.Create(filepath.Join(b.o.out, "results.json")); err == nil {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		enc.Encode(b.samples)
		f.Close()
	}
	fmt.Printf("\n%s, %d CPUs (%s), Go %s, %s; runs %d, file %d MiB, %d streams; load %s at the end\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuModel(), runtime.Version(), sshVersion(), b.o.runs, b.o.size>>20, b.o.streams, bench.LoadAvg())
	fmt.Println("| test | fileapi | OpenSSH | OpenSSH + fsync | fileapi / OpenSSH | load (1/5/15 min) | errors |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var tests []string
	seen := map[string]bool{}
	for _, s := range b.samples {
		if !seen[s.Test] {
			seen[s.Test] = true
			tests = append(tests, s.Test)
		}
	}
	for _, t := range tests {
		vals := map[string][]float64{}
		var unit, load string
		errs := 0
		var firstErr string
		for _, s := range b.samples {
			if s.Test != t {
				continue
			}
			unit, load = s.Unit, s.Load
			if s.Err != "" {
				errs++
				if firstErr == "" {
					firstErr = s.Err
				}
			}
			vals[s.Server] = append(vals[s.Server], s.Value)
		}
		cell := func(srv string) string {
			if len(vals[srv]) == 0 {
				return ""
			}
			return fmt.Sprintf("%.4g %s", bench.Median(vals[srv]), unit)
		}
		ratio := ""
		if o := bench.Median(vals["openssh"]); o > 0 && len(vals["fileapi"]) > 0 {
			ratio = fmt.Sprintf("%.2f×", bench.Median(vals["fileapi"])/o)
			if f := bench.Median(vals["openssh+fsync"]); f > 0 {
				ratio += fmt.Sprintf(" (%.2f× vs fsync)", bench.Median(vals["fileapi"])/f)
			}
		}
		e := ""
		if errs > 0 {
			e = fmt.Sprintf("%d: %.120s", errs, firstErr)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", t, cell("fileapi"), cell("openssh"), cell("openssh+fsync"), ratio, load, e)
	}
	for _, n := range b.notes {
		fmt.Println("\n" + n)
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "?"
}

func sshVersion() string {
	out, _ := exec.Command("ssh", "-V").CombinedOutput()
	return strings.TrimSpace(string(out))
}

func writeRandom(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyRange(src, dst string, off, n int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(in, off, n)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
