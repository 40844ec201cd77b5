package formats

// Placeholders so that the batch package compiles against the agreed API
// while the real implementations are written. Each function moves to its own
// file (csv.go, pain008.go, ack.go, ...) and is deleted from here.

import (
	"errors"
	"io"
)

var errUnimplemented = errors.New("formats: not implemented yet")

// Validate reads a whole file and reports its summary and every issue found.
// The error is for I/O failures of r only; a bad file is reported as issues.
func Validate(r io.Reader, opt Options) (Summary, []Issue, error) {
	return Summary{}, nil, errUnimplemented
}

// Reader streams the records of a file that Validate accepted.
type Reader struct{}

// NewReader detects the file type and prepares to stream its records.
func NewReader(r io.Reader) (*Reader, error) { return nil, errUnimplemented }

// Type is the detected file type.
func (r *Reader) Type() FileType { return "" }

// Next returns the next record, or io.EOF after the last.
func (r *Reader) Next() (Record, error) { return nil, errUnimplemented }

// WriteAck writes an .ack file.
func WriteAck(w io.Writer, a Ack) error { return errUnimplemented }

// WriteErr writes an .err file: the title line then one row per issue.
func WriteErr(w io.Writer, h ErrHeader, issues []Issue) error { return errUnimplemented }

// ResWriter writes a .res file row by row.
type ResWriter struct{}

// NewResWriter writes the title line on the first Write or Flush.
func NewResWriter(w io.Writer) *ResWriter { return &ResWriter{} }

// Write writes one row.
func (rw *ResWriter) Write(l ResLine) error { return errUnimplemented }

// Flush writes buffered rows (and the title line if nothing was written).
func (rw *ResWriter) Flush() error { return errUnimplemented }
