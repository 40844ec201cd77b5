// Package sftpd is fileapi's front door: the SSH listener, public-key
// authentication (it asks package keys who owns a key), session limits and
// bans, and each merchant's virtual filesystem (in/ and out/, confined with
// os.Root). It knows nothing of payments: completed uploads are handed over
// through the Pickup interface, which package batch implements.
//
// On disk, merchant M's folders are DATA/merchants/M/in and
// DATA/merchants/M/out (see MerchantDir). Names starting with InternalPrefix
// are the service's own temporary files: merchants can neither list nor
// touch them.
//
// Files: server.go (listener, SSH configuration and authentication,
// sessions, limits, shutdown), vfs.go (the virtual tree, uploads and
// downloads), bans.go, hostkeys.go, metrics.go. The behaviour chosen where
// SPEC.md is silent is written down in docs/DECISIONS.md under "SFTP front
// door".
package sftpd

import "path/filepath"

// InternalPrefix starts the names of fileapi's own temporary files inside
// in/ and out/ (uploads in progress, outputs being written). They are hidden
// from merchants and never picked up.
const InternalPrefix = ".fileapi-"

// MerchantDir is the on-disk folder holding merchant's in/ and out/.
func MerchantDir(dataDir, merchant string) string {
	return filepath.Join(dataDir, "merchants", merchant)
}

// Pickup receives the uploads that are complete: a file in in/ closed after
// a successful transfer with a .csv or .xml name (case-insensitive), or
// renamed into such a name. It is called synchronously, before the client's
// CLOSE or RENAME is answered, so it must be quick: store the file durably,
// queue the validation and return. name is the bare file name inside in/.
// An error fails the client's request with a generic SFTP failure.
type Pickup interface {
	Pickup(merchant, name string) error
}
