package main

import (
	"crypto/rsa"
	"fmt"
	"strings"
	"text/tabwriter"

	"golang.org/x/crypto/ssh"
)

func init() {
	commands = append(commands, &command{
		name:    "hostkeys",
		summary: "print the server's host key fingerprints (for merchants to check on first connection)",
		help: `Prints each SSH host key's type, size and SHA256 fingerprint, as
ssh-keygen -l and the first connection of an OpenSSH client show them, and
the public key line for a merchant's known_hosts file. The keys are created
on the first start and never change. Without a server the command reads them
from DATA/hostkeys (creating them, as the first start would, if there are none).`,
		admin: true,
		run:   runHostKeys,
	})
}

func runHostKeys(inv *invocation) error {
	hk, err := inv.env.svc.loadHostKeys(inv.env.dataDir)
	if err != nil {
		return fmt.Errorf("cannot read the host keys: %v", err)
	}
	tw := tabwriter.NewWriter(inv.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tBITS\tFINGERPRINT\tPUBLIC KEY")
	for _, s := range hk {
		pub := s.PublicKey()
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", keyTypeName(pub), keyBits(pub), ssh.FingerprintSHA256(pub), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))))
	}
	return tw.Flush()
}

// keyTypeName is the name ssh-keygen -l shows in parentheses.
func keyTypeName(pub ssh.PublicKey) string {
	switch pub.Type() {
	case ssh.KeyAlgoED25519:
		return "ED25519"
	case ssh.KeyAlgoRSA:
		return "RSA"
	case ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return "ECDSA"
	}
	return strings.ToUpper(pub.Type())
}

func keyBits(pub ssh.PublicKey) int {
	switch pub.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256:
		return 256
	case ssh.KeyAlgoECDSA384:
		return 384
	case ssh.KeyAlgoECDSA521:
		return 521
	}
	if c, ok := pub.(ssh.CryptoPublicKey); ok {
		if k, ok := c.CryptoPublicKey().(*rsa.PublicKey); ok {
			return k.N.BitLen()
		}
	}
	return 0
}
