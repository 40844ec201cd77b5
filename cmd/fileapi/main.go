// Command fileapi is the payment File API: one binary with the SFTP server,
// the store, the scheduler and the admin commands (SPEC §1).
//
// Admin commands (merchant, keys, batches, jobs, clock, hostkeys, backup)
// first try the running server's admin socket (DATA/admin.sock): when a
// server answers, the command's own code runs inside it against the
// server's services, and its output and exit status come back. When no
// server answers, the CLI opens the store itself and runs the same code.
// bbolt lets one process at a time open the store, so this is the only way
// both can work, and it guarantees the behaviour cannot differ.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	_ "time/tzdata" // --tz works on machines without a zoneinfo database
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runMain runs the command line args and returns the exit code.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printMainUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printMainUsage(stdout)
		return exitOK
	case "-version", "--version":
		args = []string{"version"}
	}
	c, rest := findCommand(args)
	if c == nil {
		return reportError(stderr, unknownCommand(args))
	}
	inv, err := c.parse(rest, stdout)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return reportError(stderr, err)
	}
	inv.stdout = stdout
	if c.admin {
		err = runAdmin(inv, stdin, stdout, stderr)
	} else {
		err = c.run(inv)
	}
	return reportError(stderr, err)
}

// unknownCommand explains a command line that names no command.
func unknownCommand(args []string) error {
	if subs := groupNames(args[0]); len(subs) > 0 {
		if len(args) == 1 || strings.HasPrefix(args[1], "-") {
			if len(args) > 1 && (args[1] == "--help" || args[1] == "-h" || args[1] == "-help") {
				return usagef("%s: choose a subcommand: %s", args[0], strings.Join(subs, ", "))
			}
			return usagef("%s: missing subcommand (one of %s)", args[0], strings.Join(subs, ", "))
		}
		return usagef("%s: unknown subcommand %q (one of %s)", args[0], args[1], strings.Join(subs, ", "))
	}
	return usagef("unknown command %q (run 'fileapi --help' for the list)", args[0])
}

// exitError carries an exit code decided elsewhere (by the server that ran
// an admin command) with a message already printed, or none.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// reportError prints err as one line on stderr and returns the exit code.
func reportError(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "fileapi: %s\n", oneLine(ee.msg))
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "fileapi: %s\n", oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFail
}

// oneLine keeps error messages on one line whatever produced them.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
