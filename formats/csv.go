package formats

// The CSV reading layer shared by Validate and Reader: a line scanner that
// never holds more than one line (and never more than MaxLineBytes of it)
// and a field splitter for FORMATS.md §1 quoting. Both reuse their buffers,
// so validating a file allocates nothing per line.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MaxLineBytes is the longest line a CSV file may have, line end excluded
// (FORMATS.md §1).
const MaxLineBytes = 4096

// physLine is one line of input as the scanner hands it out.
type physLine struct {
	no      int    // 1-based line number
	data    []byte // content without the line end; valid until the next call
	tooLong int    // > 0: the line had this many bytes and data is empty
}

// lineScanner yields the lines of a file one at a time.
type lineScanner struct {
	br   *bufio.Reader
	no   int
	bom  bool // strip a BOM from line 1
	long []byte
}

func newLineScanner(br *bufio.Reader) *lineScanner {
	return &lineScanner{br: br, bom: true}
}

// next returns the next line or io.EOF. A final line without LF counts.
func (s *lineScanner) next() (physLine, error) {
	data, err := s.br.ReadSlice('\n')
	if len(data) == 0 && err != nil {
		if err == bufio.ErrBufferFull { // cannot happen with len 0, kept for clarity
			err = io.ErrUnexpectedEOF
		}
		return physLine{}, err
	}
	s.no++
	l := physLine{no: s.no}
	if err == bufio.ErrBufferFull || len(data) > MaxLineBytes+2 {
		// Count the line without keeping it.
		n := len(data)
		for err == bufio.ErrBufferFull {
			data, err = s.br.ReadSlice('\n')
			n += len(data)
		}
		if err != nil && err != io.EOF {
			return physLine{}, err
		}
		// More than MaxLineBytes+2 bytes, so more than MaxLineBytes
		// without the line end.
		l.tooLong = n - lineEndLen(data)
		return l, nil
	}
	if err != nil && err != io.EOF {
		return physLine{}, err
	}
	data = data[:len(data)-lineEndLen(data)]
	if s.no == 1 && s.bom {
		data = bytes.TrimPrefix(data, utf8BOM)
	}
	if len(data) > MaxLineBytes {
		l.tooLong = len(data)
		return l, nil
	}
	l.data = data
	return l, nil
}

// lineEndLen is the length of the LF or CRLF ending data (0 if none).
func lineEndLen(data []byte) int {
	n := len(data)
	if n > 0 && data[n-1] == '\n' {
		if n > 1 && data[n-2] == '\r' {
			return 2
		}
		return 1
	}
	return 0
}

// errQuote is a line whose quoting cannot be split into fields.
var errQuote = errors.New("quote")

// splitter cuts a line into fields. Fields point into the line or, for
// quoted values, into the splitter's scratch buffer; both are valid until
// the next split.
type splitter struct {
	fields  [][]byte
	quoted  []bool
	scratch []byte
}

// split cuts line at ';'. A field that starts with '"' is quoted: it ends at
// the next lone '"', "" stands for '"', and ';' inside is data. A quote
// anywhere else, text after a closing quote, or a missing closing quote is
// errQuote with the 1-based field number. Blanks around a value are trimmed.
func (sp *splitter) split(line []byte) (int, error) {
	sp.fields = sp.fields[:0]
	sp.quoted = sp.quoted[:0]
	sp.scratch = sp.scratch[:0]
	if bytes.IndexByte(line, '"') < 0 {
		// Fast path: no quoting on this line.
		for {
			i := bytes.IndexByte(line, ';')
			if i < 0 {
				sp.fields = append(sp.fields, trimBlank(line))
				sp.quoted = append(sp.quoted, false)
				return len(sp.fields), nil
			}
			sp.fields = append(sp.fields, trimBlank(line[:i]))
			sp.quoted = append(sp.quoted, false)
			line = line[i+1:]
		}
	}
	// Quoted values are unescaped into scratch; reserve it once so that
	// appending never moves data earlier fields point to.
	if cap(sp.scratch) < len(line) {
		sp.scratch = make([]byte, 0, len(line))
	}
	for {
		field := len(sp.fields) + 1
		// Leading blanks before an opening quote are allowed.
		j := 0
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		if j < len(line) && line[j] == '"' {
			start := len(sp.scratch)
			i := j + 1
			closed := false
			for i < len(line) {
				c := line[i]
				if c == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						sp.scratch = append(sp.scratch, '"')
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				sp.scratch = append(sp.scratch, c)
				i++
			}
			if !closed {
				return field, errQuote
			}
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			sp.fields = append(sp.fields, trimBlank(sp.scratch[start:len(sp.scratch):len(sp.scratch)]))
			sp.quoted = append(sp.quoted, true)
			if i == len(line) {
				return len(sp.fields), nil
			}
			if line[i] != ';' {
				return field, errQuote
			}
			line = line[i+1:]
			continue
		}
		i := bytes.IndexByte(line, ';')
		end := i
		if i < 0 {
			end = len(line)
		}
		if bytes.IndexByte(line[:end], '"') >= 0 {
			return field, errQuote
		}
		sp.fields = append(sp.fields, trimBlank(line[:end]))
		sp.quoted = append(sp.quoted, false)
		if i < 0 {
			return len(sp.fields), nil
		}
		line = line[i+1:]
	}
}

// dropTrailing removes the empty field that an optional trailing ';'
// produces, when the line has exactly one field more than expected.
func (sp *splitter) dropTrailing(want int) {
	n := len(sp.fields)
	if n == want+1 && len(sp.fields[n-1]) == 0 && !sp.quoted[n-1] {
		sp.fields = sp.fields[:n-1]
		sp.quoted = sp.quoted[:n-1]
	}
}

// trimBlank removes spaces and tabs around a value: "a; b" means "b".
func trimBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isBlankLine reports whether a line carries no value at all: empty, only
// blanks, or only separators (";;;;" rows that spreadsheets export).
func isBlankLine(b []byte) bool {
	for _, c := range b {
		if c != ';' && c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// count is the number of values of the last split line, not counting the
// empty one an optional trailing ';' adds: what a person sees as values.
func (sp *splitter) count() int {
	n := len(sp.fields)
	if n > 1 && len(sp.fields[n-1]) == 0 && !sp.quoted[n-1] {
		n--
	}
	return n
}
