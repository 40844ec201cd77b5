package main

import (
	"cmp"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"fileapi/sftpd"
)

// wireSFTP builds package sftpd's server for serve, with the host keys
// (created on first start, then reused).
func wireSFTP(e *env, sp *serveParts) error {
	var err error
	cfg := sp.cfg
	if e.svc.hostKeys, err = sftpd.LoadOrCreateHostKeys(e.dataDir); err != nil {
		return fmt.Errorf("host keys: %v", err)
	}
	e.svc.sftp, err = sftpd.New(sftpd.Config{
		DataDir:                e.dataDir,
		HostKeys:               e.svc.hostKeys,
		Keys:                   e.svc.keys,
		Pickup:                 e.svc.batch,
		Audit:                  e.audit,
		Logger:                 e.log.With("component", "sftpd"),
		Now:                    e.wall,
		MaxFileSize:            cfg.MaxFileSize,
		MaxSessionsPerMerchant: cfg.MaxSessionsPerMerchant,
		MaxConnections:         cfg.MaxConnections,
		HandshakeTimeout:       cfg.HandshakeTimeout,
		IdleTimeout:            cfg.IdleTimeout,
		SendWindow:             cmp.Or(cfg.SendWindow, -1),
		BanThreshold:           cfg.BanThreshold,
		BanWindow:              cfg.BanWindow,
		BanDuration:            cfg.BanDuration,
		Registerer:             sp.reg,
	})
	if err != nil {
		return fmt.Errorf("sftp server: %v", err)
	}
	e.closers = append(e.closers, e.svc.sftp.Close)
	return nil
}

// loadHostKeys returns the host keys, loading (or creating) them when the
// command runs without a server.
func (s *services) loadHostKeys(dataDir string) ([]ssh.Signer, error) {
	if s.hostKeys != nil {
		return s.hostKeys, nil
	}
	hk, err := sftpd.LoadOrCreateHostKeys(dataDir)
	if err != nil {
		return nil, err
	}
	if len(hk) == 0 {
		return nil, errors.New("no host keys")
	}
	s.hostKeys = hk
	return hk, nil
}
