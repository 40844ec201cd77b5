package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

func init() {
	commands = append(commands, &command{
		name:    "serve",
		args:    "[--config FILE] [--data DIR] [--sftp-addr ADDR] [--http-addr ADDR] [flags]",
		summary: "run the service: SFTP server, scheduler, health and metrics, admin socket",
		help: `Starts the service. With an empty data directory it creates what it needs
(the store, host keys, the audit log). Settings come from the flags, then the
--config file (docs/CONFIG.md), then the defaults. SIGTERM or SIGINT stops it
gracefully (transfers may finish for --shutdown-grace); a second signal exits
at once. SIGHUP reopens DATA/audit.log (for logrotate).`,
		maxArgs: 0,
		flags:   func(fs *flag.FlagSet, _ *cmdOpts) { serveFlags(fs) },
		run:     runServe,
	})
}

// server is a running `fileapi serve`.
type server struct {
	cfg      *Config
	log      *slog.Logger
	env      *env
	audit    *auditLog
	sftpLn   net.Listener
	httpSrv  *http.Server
	httpLn   net.Listener
	admin    *adminServer
	stopping atomic.Bool
}

func runServe(inv *invocation) error {
	cfg, err := loadConfig(inv.fs)
	if err != nil {
		return err
	}
	log := newLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	// Signals that arrive while starting are handled once started.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	s, err := startServer(cfg, log)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	stopping := false
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := s.audit.file.Reopen(); err != nil {
					log.Error("reopening the audit log failed", "err", err)
				} else {
					log.Info("audit log reopened")
				}
				continue
			}
			if stopping {
				// Everything acknowledged is already durable (bbolt commits
				// are synced), so leaving now loses nothing.
				log.Warn("second signal: exiting now", "signal", sig.String())
				os.Exit(exitFail)
			}
			stopping = true
			log.Info("shutting down", "signal", sig.String(), "grace", cfg.ShutdownGrace.String())
			go func() { done <- s.shutdown() }()
		case err := <-done:
			if err != nil {
				return err
			}
			log.Info("stopped")
			return nil
		}
	}
}

// startServer creates the data directory and what it holds, opens the
// store and starts every listener and the scheduler.
func startServer(cfg *Config, log *slog.Logger) (_ *server, err error) {
	s := &server{cfg: cfg, log: log}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data directory: %v", err)
	}
	if st, err := os.Stat(cfg.Data); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("the data directory is readable by other users; chmod 700 it", "dir", cfg.Data, "mode", st.Mode().Perm().String())
	}
	if err := os.MkdirAll(filepath.Join(cfg.Data, "merchants"), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the merchants directory: %v", err)
	}
	// Another server answering on the admin socket holds the store for
	// good: say so at once. Otherwise wait a few seconds for the lock, as
	// an admin command run without a server holds it only briefly.
	if c, err := net.DialTimeout("unix", socketAddr(filepath.Join(cfg.Data, socketName)), time.Second); err == nil {
		c.Close()
		return nil, &inUseError{dir: cfg.Data}
	}
	db, err := openStore(cfg.Data, 5*time.Second)
	if err != nil {
		return nil, err
	}
	e := &env{dataDir: cfg.Data, db: db, loc: cfg.Location, wall: time.Now, server: true, log: log}
	s.env = e
	e.closers = append(e.closers, db.Close)
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	e.settings = storedSettings{Mode: cfg.Mode, TimeZone: cfg.TimeZone, Fees: cfg.Fees}
	if err := saveSettings(db, e.settings); err != nil {
		return nil, fmt.Errorf("cannot write to the store: %v", err)
	}
	if s.audit, err = openAuditLog(filepath.Join(cfg.Data, auditName), e.wall); err != nil {
		return nil, err
	}
	e.audit = s.audit.Log
	e.closers = append(e.closers, s.audit.Close)

	reg := newRegistry()
	if err := wireServices(e, &serveParts{cfg: cfg, reg: reg}); err != nil {
		return nil, err
	}

	if s.sftpLn, err = net.Listen("tcp", cfg.SFTPAddr); err != nil {
		return nil, fmt.Errorf("cannot listen for SFTP on %s: %v", cfg.SFTPAddr, errText(err))
	}
	if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		s.sftpLn.Close()
		return nil, fmt.Errorf("cannot listen for HTTP on %s: %v", cfg.HTTPAddr, errText(err))
	}
	if s.admin, err = listenAdmin(cfg.Data, e, log); err != nil {
		s.sftpLn.Close()
		s.httpLn.Close()
		return nil, err
	}

	ready := func() bool { return !s.stopping.Load() && e.svc.sftpReady() }
	s.httpSrv = newHTTPServer(reg, healthHandler(db, ready))
	go func() {
		if err := s.httpSrv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		if err := e.svc.serveSFTP(s.sftpLn); err != nil && !s.stopping.Load() {
			log.Error("sftp server stopped", "err", err)
		}
	}()
	if err := e.svc.start(context.Background()); err != nil {
		s.sftpLn.Close()
		s.httpSrv.Close()
		s.admin.Close(context.Background())
		return nil, err
	}
	// "started" means /healthz says 200: wait for the SFTP server to be
	// accepting (its Serve runs in a goroutine).
	for deadline := time.Now().Add(30 * time.Second); !e.svc.sftpReady() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	log.Info("fileapi started",
		"version", version,
		"data", cfg.Data,
		"sftp_addr", s.sftpLn.Addr().String(),
		"http_addr", s.httpLn.Addr().String(),
		"mode", cfg.Mode,
		"tz", cfg.TimeZone,
		"host_keys", e.svc.hostKeyFingerprints(),
	)
	return s, nil
}

// errText drops the "listen tcp ...:" prefix the address already says.
func errText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// shutdown stops accepting, lets running transfers finish for the grace
// period, stops the scheduler after its running step and closes the store.
func (s *server) shutdown() error {
	s.stopping.Store(true) // /healthz says 503 from now on
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	s.admin.Close(ctx)
	if err := s.env.svc.shutdownSFTP(ctx); err != nil {
		s.log.Warn("transfers still running at the end of the grace period were cut", "err", err)
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 2*time.Second)
	s.httpSrv.Shutdown(hctx)
	hcancel()
	return s.closeAll()
}

func (s *server) closeAll() error {
	return s.env.close()
}
