// Command fileapi is the payment File API: one binary with the SFTP server,
// the store, the scheduler and the admin commands (SPEC §1).
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("fileapi", version)
		return
	}
	fmt.Fprintln(os.Stderr, "fileapi: not built yet")
	os.Exit(2)
}
