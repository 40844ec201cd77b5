package formats

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGoldenFiles validates every input under testdata/golden and compares
// the .ack or .err it gets with the file beside it (NAME.ack / NAME.err,
// NAME being the input's name without its extension). go test -update
// rewrites them; review the diff before committing.
func TestGoldenFiles(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if ext == ".ack" || ext == ".err" || name == "README.md" {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			sum, issues, err := Validate(bytes.NewReader(in), testOpt)
			if err != nil {
				t.Fatal(err)
			}
			received := time.Date(2026, 11, 27, 9, 14, 3, 0, time.UTC)
			var out bytes.Buffer
			got, other := ".ack", ".err"
			if len(issues) == 0 {
				h := sha256.Sum256(in)
				err = WriteAck(&out, Ack{FileID: "01JDQ4ZK8M3V7R0N5T2W9XG6HB", FileName: name, Type: sum.Type,
					ReceivedAt: received, SHA256: hex.EncodeToString(h[:]), Lines: sum.Lines, Total: sum.Total, Currency: sum.Currency})
			} else {
				got, other = other, got
				err = WriteErr(&out, ErrHeader{FileID: "01JDQ5AB8M3V7R0N5T2W9XG6HC", FileName: name, ReceivedAt: received}, issues)
			}
			if err != nil {
				t.Fatal(err)
			}
			stem := filepath.Join(dir, strings.TrimSuffix(name, ext))
			if *update {
				os.Remove(stem + other)
				if err := os.WriteFile(stem+got, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if _, err := os.Stat(stem + other); err == nil {
				t.Errorf("%s has a %s golden file but gives a %s", name, other, got)
			}
			want, err := os.ReadFile(stem + got)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, stem+got, out.Bytes(), want)
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d golden inputs", n)
	}
}
