package main

import (
	"context"
	"errors"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"

	"fileapi/batch"
	"fileapi/keys"
)

// serveParts is what only `serve` has: the configuration and the metrics
// registry. Admin commands run locally wire the services without them.
type serveParts struct {
	cfg *Config
	reg prometheus.Registerer
}

// services are the parts built on the store: package keys' registry,
// package batch's service and, inside serve, package sftpd's server.
type services struct {
	keys     *keys.Registry
	batch    *batch.Service
	sftp     sftpServer   // nil outside serve
	hostKeys []ssh.Signer // loaded by serve, or on demand by `hostkeys`
}

// wireServices builds the services of e. With sp nil (an admin command run
// without a server) the scheduler and the SFTP server are not built.
func wireServices(e *env, sp *serveParts) error {
	e.svc = &services{}
	var err error
	// Keys use the wall clock: key expiry and last use are security facts,
	// not part of the sandbox's simulated payment calendar.
	if e.svc.keys, err = keys.Open(e.db, e.wall); err != nil {
		return err
	}
	bc := batch.Config{
		DataDir:  e.dataDir,
		DB:       e.db,
		Keys:     e.svc.keys,
		Location: e.loc,
		Sandbox:  e.settings.Mode == modeSandbox,
		Audit:    e.audit,
		Logger:   e.log.With("component", "batch"),
		Fees:     e.settings.Fees,
	}
	if sp != nil {
		bc.Registerer = sp.reg
		bc.ProcessSchedule = sp.cfg.ProcessSchedule
		bc.ReportsSchedule = sp.cfg.ReportsSchedule
	}
	if e.svc.batch, err = batch.Open(bc); err != nil {
		return err
	}
	e.closers = append(e.closers, e.svc.batch.Close)
	if sp == nil {
		return nil
	}
	return wireSFTP(e, sp)
}

// sftpServer is what serve needs of package sftpd's server.
type sftpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
	Ready() bool
}

// start starts the background work: intake workers and the scheduler
// (which first catches up with what became due while the service was down).
func (s *services) start(ctx context.Context) error { return s.batch.Start(ctx) }

func (s *services) serveSFTP(ln net.Listener) error {
	if s.sftp == nil {
		return errors.New("no SFTP server in this build")
	}
	return s.sftp.Serve(ln)
}

// shutdownSFTP stops accepting and lets transfers finish until ctx ends.
func (s *services) shutdownSFTP(ctx context.Context) error {
	if s.sftp == nil {
		return nil
	}
	return s.sftp.Shutdown(ctx)
}

func (s *services) sftpReady() bool { return s.sftp != nil && s.sftp.Ready() }

func (s *services) hostKeyFingerprints() []string {
	var out []string
	for _, k := range s.hostKeys {
		out = append(out, ssh.FingerprintSHA256(k.PublicKey()))
	}
	return out
}
