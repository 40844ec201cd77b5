package sftpd

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// Host key files inside DATA/hostkeys, named as OpenSSH names them so an
// operator recognises them (and could reuse them with sshd).
const (
	hostKeyDir     = "hostkeys"
	hostKeyEd25519 = "ssh_host_ed25519_key"
	hostKeyRSA     = "ssh_host_rsa_key"
	hostKeyRSABits = 3072
)

// LoadOrCreateHostKeys returns the server's host keys (ed25519 first, then
// RSA 3072), generating each one on first use and storing it under
// DATA/hostkeys in OpenSSH PEM format with mode 0600, with its .pub beside
// it. Later calls load the same keys, so the fingerprints merchants pinned
// never change. The RSA signer only signs with rsa-sha2-512/256, never SHA-1.
func LoadOrCreateHostKeys(dataDir string) ([]ssh.Signer, error) {
	dir := filepath.Join(dataDir, hostKeyDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sftpd: host keys: %w", err)
	}
	edSigner, err := loadOrCreate(filepath.Join(dir, hostKeyEd25519), func() (crypto.PrivateKey, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	})
	if err != nil {
		return nil, err
	}
	rsaSigner, err := loadOrCreate(filepath.Join(dir, hostKeyRSA), func() (crypto.PrivateKey, error) {
		return rsa.GenerateKey(rand.Reader, hostKeyRSABits)
	})
	if err != nil {
		return nil, err
	}
	as, ok := rsaSigner.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("sftpd: host keys: RSA signer cannot choose its algorithm")
	}
	rsaSHA2, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
	if err != nil {
		return nil, fmt.Errorf("sftpd: host keys: %w", err)
	}
	return []ssh.Signer{edSigner, rsaSHA2}, nil
}

func loadOrCreate(path string, generate func() (crypto.PrivateKey, error)) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		s, err := ssh.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("sftpd: host key %s: %w", path, err)
		}
		// A private key readable by others (restored from a backup, copied
		// by hand) is tightened rather than refused: refusing would stop
		// the service over something it can fix.
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, fmt.Errorf("sftpd: host key %s is readable by others and cannot be restricted: %w", path, err)
			}
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	priv, err := generate()
	if err != nil {
		return nil, fmt.Errorf("sftpd: generate host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "fileapi host key")
	if err != nil {
		return nil, fmt.Errorf("sftpd: encode host key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	// Write under a temporary name and rename, so that a crash never
	// leaves a truncated key that would change the fingerprint on restart.
	if err := writeFileAtomic(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	pub := ssh.MarshalAuthorizedKey(signer.PublicKey())
	if err := writeFileAtomic(path+".pub", pub, 0o644); err != nil {
		return nil, err
	}
	return signer, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("sftpd: write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sftpd: write %s: %w", path, err)
	}
	return nil
}
