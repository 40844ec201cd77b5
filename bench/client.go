// Package bench measures fileapi's SFTP server against OpenSSH's on the
// same machine (issue 8, docs/BENCHMARKS.md "SFTP vs OpenSSH"). It holds
// the building blocks of cmd/sftpbench: an in-process pkg/sftp client for
// bulk transfers, a connection-rate loop, the 200-session pick-up to .ack
// measurement, and the driver of the OpenSSH `sftp` client in batch mode.
// The orchestration (starting `fileapi serve` and a throwaway sshd,
// alternating runs, medians) lives in cmd/sftpbench; bench/run.sh builds
// and runs it.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Target is an SFTP server and the identity to log in with.
type Target struct {
	Addr   string
	User   string
	Signer ssh.Signer
}

// Key exchange and host key algorithms are pinned for every client and
// both servers, so that the comparison is about the transport and the
// SFTP server, not about which post-quantum KEX each side prefers.
const (
	KEX         = ssh.KeyExchangeCurve25519
	HostKeyAlgo = ssh.KeyAlgoED25519
)

// Dial opens an SSH connection to t using only cipher.
func Dial(t Target, cipher string) (*ssh.Client, error) {
	cfg := &ssh.ClientConfig{
		Config: ssh.Config{
			KeyExchanges: []string{KEX},
			Ciphers:      []string{cipher},
		},
		User:              t.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(t.Signer)},
		HostKeyCallback:   ssh.InsecureIgnoreHostKey(), // loopback throwaway servers
		HostKeyAlgorithms: []string{HostKeyAlgo},
		Timeout:           30 * time.Second,
	}
	raw, err := net.DialTimeout("tcp", t.Addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(60 * time.Second))
	sc, chans, reqs, err := ssh.NewClientConn(raw, t.Addr, cfg)
	if err != nil {
		raw.Close()
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

// NewSFTP opens the sftp subsystem with the settings of OpenSSH's sftp
// client (32 KiB requests, 64 in flight), writes and reads pipelined.
func NewSFTP(c *ssh.Client) (*sftp.Client, error) {
	return sftp.NewClient(c,
		sftp.MaxPacket(32768),
		sftp.MaxConcurrentRequestsPerFile(64),
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
	)
}

// Result is one measurement of a transfer.
type Result struct {
	Bytes   int64
	Elapsed time.Duration
}

// MBps is the throughput in MB/s (10^6 bytes).
func (r Result) MBps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Elapsed.Seconds() / 1e6
}

// Job is one stream of a transfer: a local and a remote file.
type Job struct {
	Local, Remote string
}

// Upload runs the jobs in parallel, one SSH connection each, and times
// from the first byte sent to the last close answered (the close is when
// fileapi makes the file durable). Sync also sends fsync@openssh.com
// before the close (OpenSSH only: its server does not sync otherwise).
// Connections are set up before the clock starts.
func Upload(ctx context.Context, t Target, cipher string, jobs []Job, sync bool) (Result, error) {
	return parallel(t, cipher, jobs, func(c *sftp.Client, j Job) (int64, error) {
		src, err := os.Open(j.Local)
		if err != nil {
			return 0, err
		}
		defer src.Close()
		dst, err := c.OpenFile(j.Remote, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return 0, fmt.Errorf("open %s: %w", j.Remote, err)
		}
		n, err := dst.ReadFrom(src)
		if err == nil && sync {
			err = dst.Sync()
		}
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		return n, err
	})
}

// Download fetches the remote files of the jobs in parallel into
// io.Discard (the client's disk is not what is measured).
func Download(ctx context.Context, t Target, cipher string, jobs []Job) (Result, error) {
	return parallel(t, cipher, jobs, func(c *sftp.Client, j Job) (int64, error) {
		f, err := c.Open(j.Remote)
		if err != nil {
			return 0, fmt.Errorf("open %s: %w", j.Remote, err)
		}
		defer f.Close()
		return f.WriteTo(io.Discard)
	})
}

func parallel(t Target, cipher string, jobs []Job, fn func(*sftp.Client, Job) (int64, error)) (Result, error) {
	clients := make([]*sftp.Client, len(jobs))
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	var conns []*ssh.Client
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range jobs {
		sc, err := Dial(t, cipher)
		if err != nil {
			return Result{}, err
		}
		conns = append(conns, sc)
		if clients[i], err = NewSFTP(sc); err != nil {
			return Result{}, err
		}
	}
	var total atomic.Int64
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	start := time.Now()
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := fn(clients[i], j)
			total.Add(n)
			errs[i] = err
		}()
	}
	wg.Wait()
	r := Result{Bytes: total.Load(), Elapsed: time.Since(start)}
	return r, errors.Join(errs...)
}

// ConnRate opens connections for d with workers concurrent loops: each
// connection does the key exchange, logs in with the key, opens the sftp
// subsystem (one round trip: the SFTP version exchange) and closes.
// It returns the connections completed and the errors seen.
func ConnRate(ctx context.Context, t Target, cipher string, d time.Duration, workers int) (ok, failed int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var nOK, nErr atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if e := oneConn(t, cipher); e != nil {
					nErr.Add(1)
					first.CompareAndSwap(nil, e)
					continue
				}
				nOK.Add(1)
			}
		}()
	}
	wg.Wait()
	if e, _ := first.Load().(error); e != nil {
		err = e
	}
	return nOK.Load(), nErr.Load(), err
}

func oneConn(t Target, cipher string) error {
	c, err := Dial(t, cipher)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := sftp.NewClient(c)
	if err != nil {
		return err
	}
	return s.Close()
}

// Median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentile of xs by nearest rank (p in 0..100).
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
