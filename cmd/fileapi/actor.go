package main

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"strings"

	"fileapi/audit"
)

// record writes an audit event for a change made by this command, naming
// who made it: support actions on merchants and keys must be traceable to
// a person, not just to "the CLI".
func (inv *invocation) record(ev audit.Event) {
	if inv.actor != "" {
		ev.Detail = strings.TrimSpace(ev.Detail + " by " + inv.actor)
	}
	inv.env.record(ev)
}

// describeUID names a local user: "alice (uid 1000)".
func describeUID(uid int) string {
	if u, err := user.LookupId(fmt.Sprint(uid)); err == nil && u.Username != "" {
		return fmt.Sprintf("%s (uid %d)", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// localActor is the user running this process.
func localActor() string { return describeUID(os.Getuid()) }

// peerActor is the user at the other end of an admin socket connection,
// as the kernel reports it (not as the client claims).
func peerActor(c net.Conn) string {
	uid, ok := peerUID(c)
	if !ok {
		return ""
	}
	return describeUID(uid)
}
