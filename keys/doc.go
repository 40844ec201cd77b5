// Package keys is the registry of merchants and their SSH public keys:
// authorized_keys parsing, SHA256 fingerprints as ssh-keygen prints them,
// key-type policy, expiry, revocation (with a way for sftpd to hear about
// it and close live sessions), merchant suspension, last-used times. It owns
// its bbolt buckets and nothing else.
package keys
