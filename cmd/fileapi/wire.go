package main

import (
	"context"
	"errors"
	"net"

	"fileapi/keys"

	"github.com/prometheus/client_golang/prometheus"
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
	keys   *keys.Registry
	sftpUp bool
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
	return nil
}

func (s *services) start(ctx context.Context) error { return nil }

func (s *services) serveSFTP(ln net.Listener) error {
	return errors.New("sftpd not wired yet")
}

func (s *services) shutdownSFTP(ctx context.Context) error { return nil }

func (s *services) sftpReady() bool { return s.sftpUp }

func (s *services) hostKeyFingerprints() []string { return nil }
