package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes (SPEC §1).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError is a mistake in how a command was called: wrong number of
// arguments, unknown flag, bad flag value. It exits with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// errHelp is returned when --help was asked for; the usage has been printed
// and the command exits 0.
var errHelp = errors.New("help requested")

// command is one subcommand of the CLI. Admin commands (admin true) run the
// same run function either inside the server (through the admin socket) or
// in the CLI process against the store opened locally.
type command struct {
	name    string // "keys add"
	args    string // positional part of the usage line: "MERCHANT FILE|-"
	summary string // one line for the command list
	help    string // longer explanation printed by --help
	minArgs int
	maxArgs int // -1: unlimited
	// flags declares the command's own flags on fs, storing values in o.
	flags func(fs *flag.FlagSet, o *cmdOpts)
	// inputArg, when not 0, is the 1-based position of the argument naming
	// a file read client side ("-" is stdin): its bytes travel with the
	// request, so the server never opens the caller's files.
	inputArg int
	// prepare runs client side after parsing, before the command is sent to
	// a server or run locally (e.g. to make a path absolute).
	prepare func(inv *invocation) error
	admin   bool
	// mutates marks commands that change state: they are audited.
	mutates bool
	run     func(inv *invocation) error
}

// cmdOpts holds every command-specific flag; each command uses a few.
// Exported so that it travels over the admin socket.
type cmdOpts struct {
	Name        string `json:"name,omitempty"`
	CreditorRef string `json:"creditor_ref,omitempty"`
	ICS         string `json:"ics,omitempty"`
	Expires     string `json:"expires,omitempty"`
	MaxAmount   string `json:"max_amount,omitempty"`
	Merchant    string `json:"merchant,omitempty"`
	Date        string `json:"date,omitempty"`
}

// invocation is one parsed call of a command: what the run function sees,
// whether it runs in the CLI or inside the server.
type invocation struct {
	cmd    *command
	args   []string // positional arguments
	opts   cmdOpts
	data   string // --data as given (for messages)
	input  []byte // content of the input file, when cmd.inputArg > 0
	stdout io.Writer
	fs     *flag.FlagSet // the parsed flags (serve reads its settings from it)
	env    *env          // services; set before run
	// actor names who runs the command, for the audit log.
	actor string
}

// commands is the command table; order is the order of the help text.
var commands []*command

func findCommand(args []string) (*command, []string) {
	// Two-word commands ("keys add") first, then one-word ones ("serve").
	if len(args) >= 2 {
		for _, c := range commands {
			if c.name == args[0]+" "+args[1] {
				return c, args[2:]
			}
		}
	}
	if len(args) >= 1 {
		for _, c := range commands {
			if c.name == args[0] {
				return c, args[1:]
			}
		}
	}
	return nil, nil
}

// groupNames lists the subcommands of a group ("keys" -> add, list, revoke).
func groupNames(group string) []string {
	var out []string
	for _, c := range commands {
		if g, sub, ok := strings.Cut(c.name, " "); ok && g == group {
			out = append(out, sub)
		}
	}
	return out
}

// defaultDataDir is --data's default: $FILEAPI_DATA, else ./data.
func defaultDataDir() string {
	if d := os.Getenv("FILEAPI_DATA"); d != "" {
		return d
	}
	return "./data"
}

// parse parses args (everything after the command name). Flags may come
// before or after positional arguments; "--" ends the flags. Usage mistakes
// come back as *usageError, --help as errHelp after printing the usage.
func (c *command) parse(args []string, stdout io.Writer) (*invocation, error) {
	inv := &invocation{cmd: c}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.admin {
		fs.StringVar(&inv.data, "data", defaultDataDir(), "data directory `DIR` ($FILEAPI_DATA, else ./data)")
	}
	if c.flags != nil {
		c.flags(fs, &inv.opts)
	}
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.printUsage(stdout, fs)
				return nil, errHelp
			}
			return nil, usagef("%s: %s", c.name, flagErrorText(err))
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stops at the first positional argument or after "--".
		// It consumed a "--" if the argument before rest is one.
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		rest = rest[1:]
	}
	inv.args = pos
	inv.fs = fs
	if len(pos) < c.minArgs {
		return nil, usagef("%s: missing %s (usage: fileapi %s %s)", c.name, missingName(c, len(pos)), c.name, c.args)
	}
	if c.maxArgs >= 0 && len(pos) > c.maxArgs {
		return nil, usagef("%s: unexpected argument %q (usage: fileapi %s %s)", c.name, pos[c.maxArgs], c.name, c.args)
	}
	return inv, nil
}

// missingName names the first missing positional argument from the usage
// line ("MERCHANT FILE|-" with one given: "FILE").
func missingName(c *command, given int) string {
	words := strings.Fields(strings.NewReplacer("[", "", "]", "").Replace(c.args))
	var names []string
	for _, w := range words {
		if !strings.HasPrefix(w, "-") && strings.ToUpper(w) == w {
			names = append(names, w)
		}
	}
	if given < len(names) {
		return names[given]
	}
	return "argument"
}

// flagErrorText turns the flag package's messages into one sentence that
// names the flag with the double dash users type.
func flagErrorText(err error) string {
	s := err.Error()
	if name, ok := strings.CutPrefix(s, "flag provided but not defined: -"); ok {
		return fmt.Sprintf("unknown flag --%s", name)
	}
	if name, ok := strings.CutPrefix(s, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag --%s needs a value", name)
	}
	if rest, ok := strings.CutPrefix(s, "invalid value "); ok {
		// invalid value "x" for flag -n: reason
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			val := rest[:i]
			flagAndWhy := rest[i+len(" for flag -"):]
			name, why, _ := strings.Cut(flagAndWhy, ": ")
			return fmt.Sprintf("invalid value %s for --%s: %s", val, name, why)
		}
	}
	return s
}

func (c *command) printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: fileapi %s %s\n\n%s\n", c.name, strings.TrimSpace(c.args), c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	fmt.Fprintf(w, "\nFlags:\n")
	for _, n := range names {
		f := fs.Lookup(n)
		arg, usage := flag.UnquoteUsage(f)
		left := "--" + n
		if arg == "string" || arg == "value" {
			arg = metaFor(n)
		}
		if arg != "" {
			left += " " + strings.ToUpper(arg)
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.Name != "data" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %-36s %s%s\n", left, usage, def)
	}
}

// commandOrder is the order of SPEC §1, for the help text.
var commandOrder = []string{"serve", "merchant", "keys", "batches", "jobs", "clock", "hostkeys", "backup", "version"}

// metaFor names the value of a serve setting's flag in the help text.
func metaFor(flagName string) string {
	if flagName == "fee" {
		return "OP=CENTS"
	}
	if flagName == "config" {
		return "FILE"
	}
	for _, s := range settings {
		if s.flag != flagName {
			continue
		}
		switch {
		case strings.HasSuffix(flagName, "-addr"):
			return "ADDR"
		case s.kind == kindDuration:
			return "DURATION"
		case s.kind == kindInt:
			return "N"
		case s.kind == kindSize:
			return "SIZE"
		case flagName == "data":
			return "DIR"
		case strings.HasSuffix(flagName, "-schedule"):
			return "CRON"
		case flagName == "tz":
			return "ZONE"
		}
	}
	return "VALUE"
}

// printMainUsage prints the list of commands.
func printMainUsage(w io.Writer) {
	fmt.Fprintf(w, "fileapi — payment File API (SFTP server, store, scheduler and admin commands)\n\nUsage:\n")
	rank := func(c *command) int {
		g, _, _ := strings.Cut(c.name, " ")
		for i, n := range commandOrder {
			if n == g {
				return i
			}
		}
		return len(commandOrder)
	}
	sorted := append([]*command(nil), commands...)
	sort.SliceStable(sorted, func(i, j int) bool { return rank(sorted[i]) < rank(sorted[j]) })
	for _, c := range sorted {
		if c.name == "serve" {
			fmt.Fprintf(w, "  fileapi %-48s %s\n", "serve [--config FILE] [--data DIR] [flags]", c.summary)
			continue
		}
		line := strings.TrimSpace(c.name + " " + c.args)
		fmt.Fprintf(w, "  fileapi %-48s %s\n", line, c.summary)
	}
	fmt.Fprintf(w, "\nEvery command accepts --help. Admin commands take --data DIR (default $FILEAPI_DATA, else ./data)\nand go through the running server's admin socket when one answers.\n")
}
