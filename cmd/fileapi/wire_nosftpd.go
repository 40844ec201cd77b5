//go:build !withsftpd

package main

// Until package sftpd lands on main, serve runs without an SFTP server
// (build with -tags withsftpd to wire it). This file goes away then.
func wireSFTP(e *env, sp *serveParts) error { return nil }

// buildTags are the tags this package was built with, for TestMain.
const buildTags = ""
