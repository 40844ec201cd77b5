package sftpd

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// BenchmarkUpload measures one upload of 16 MiB through a real SSH and
// SFTP stack over loopback, close and pick-up included.
func BenchmarkUpload(b *testing.B) {
	ts := newTestServer(b)
	acme := ts.addMerchant("acme")
	c := ts.sftp(acme, sftp.UseConcurrentWrites(true))
	data := make([]byte, 16<<20)
	rand.Read(data)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := c.Create(fmt.Sprintf("/in/f%d.csv", i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogin measures a full connection: TCP, key exchange, public
// key authentication (registry lookups, last-use write), SFTP start.
func BenchmarkLogin(b *testing.B) {
	ts := newTestServer(b)
	acme := ts.addMerchant("acme")
	for i := 0; i < b.N; i++ {
		conn, err := ts.dial("acme", ssh.PublicKeys(acme.signer))
		if err != nil {
			b.Fatal(err)
		}
		sc, err := sftp.NewClient(conn)
		if err != nil {
			b.Fatal(err)
		}
		sc.Close()
		conn.Close()
	}
}
