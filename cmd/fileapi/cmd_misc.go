package main

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"

	"fileapi/audit"
)

func init() {
	commands = append(commands,
		&command{
			name:    "backup",
			args:    "FILE",
			summary: "write a consistent copy of the store to FILE (safe while the server runs)",
			help: `Copies DATA/fileapi.db inside one read transaction, so the copy is consistent
even while the server runs and writes. FILE must not exist. The copy is the
whole state: merchants, keys, batches, ledger, clock. Back up DATA/store/ and
DATA/merchants/ (uploaded originals and outputs) with any file copy tool;
outputs missing from out/ are written again from the store on start.`,
			minArgs: 1, maxArgs: 1,
			admin:   true,
			mutates: false,
			prepare: func(inv *invocation) error {
				// The server may run in another directory: send an absolute path.
				abs, err := filepath.Abs(inv.args[0])
				if err != nil {
					return err
				}
				inv.args[0] = abs
				return nil
			},
			run: runBackup,
		},
		&command{
			name:    "version",
			summary: "print the version",
			run: func(inv *invocation) error {
				_, err := fmt.Fprintf(inv.stdout, "fileapi %s\n", version)
				return err
			},
		},
	)
}

func runBackup(inv *invocation) error {
	dst := inv.args[0]
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("%s already exists; choose a new file name", dst)
	}
	tmp := dst + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cannot create %s: %v", tmp, pathErrReason(err))
	}
	var n int64
	err = inv.env.db.View(func(tx *bbolt.Tx) error {
		var werr error
		n, werr = tx.WriteTo(f)
		return werr
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup failed: %v", err)
	}
	inv.record(audit.Event{Action: "backup", Path: dst, Bytes: n})
	_, err = fmt.Fprintf(inv.stdout, "store copied to %s (%d bytes)\n", dst, n)
	return err
}
