package formats

// File type detection from content (never the name): the first bytes of a
// CSV file name its type; an XML file is a pain.008 when its root element is
// a Document in a supported namespace. Detection only peeks into the
// bufio.Reader, so the same reader is then validated or read from its start.

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Namespaces of the supported pain.008 versions (SEPA.md §2.1).
const (
	NamespacePain008V02 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
	NamespacePain008V08 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"
)

// bufSize is the read buffer of a file: it bounds how far detection looks
// into an XML prolog and is large enough that a 4,096-byte line normally
// sits in it whole.
const bufSize = 64 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// detection is the outcome of detect: a type, or the whole-file issue that
// rejects the file before any line is read.
type detection struct {
	typ   FileType
	bom   bool   // a UTF-8 BOM precedes the content
	issue *Issue // set when the file is rejected as a whole
}

// csvPrefixes are the exact first bytes of each CSV type (after a BOM).
var csvPrefixes = []struct {
	prefix string
	typ    FileType
}{
	{"0;PAYMENTS;", Payments},
	{"0;REFUNDS;", Refunds},
	{"0;MANDATES;", Mandates},
}

// detect peeks at br and tells the file type. It never consumes input, so
// callers re-read the file from its first byte (BOM included).
func detect(br *bufio.Reader) (detection, error) {
	head, err := br.Peek(64)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return detection{}, err
	}
	d := detection{}
	body := head
	if bytes.HasPrefix(body, utf8BOM) {
		d.bom = true
		body = body[len(utf8BOM):]
	}
	for _, p := range csvPrefixes {
		if bytes.HasPrefix(body, []byte(p.prefix)) {
			d.typ = p.typ
			if crOnly(br) {
				// Every line would run into the next one: say why once.
				d.issue = &Issue{Line: 1, Code: CodeHeader, Message: "lines end with a carriage return alone (old Mac format), they must end with LF or CRLF"}
			}
			return d, nil
		}
	}
	// Anything else: look further (XML prolog, blank file, binary data).
	all, err := br.Peek(bufSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return detection{}, err
	}
	full := err == io.EOF // all holds the whole file
	if d.bom {
		all = all[len(utf8BOM):]
	}
	trimmed := bytes.TrimLeft(all, " \t\r\n")
	switch {
	case len(trimmed) == 0 && full:
		d.issue = &Issue{Code: CodeEmptyFile, Message: "the file is empty"}
		return d, nil
	case bytes.HasPrefix(all, []byte{0xFF, 0xFE}) || bytes.HasPrefix(all, []byte{0xFE, 0xFF}):
		d.issue = &Issue{Code: CodeEncoding, Message: "the file is UTF-16, save it as UTF-8"}
		return d, nil
	case len(trimmed) > 0 && trimmed[0] == '<':
		return detectXML(d, all)
	}
	if line, ok := firstInvalidUTF8(all, full); !ok {
		d.issue = &Issue{Line: line, Code: CodeEncoding, Message: "the file is not valid UTF-8, save it as UTF-8"}
		return d, nil
	}
	d.issue = &Issue{Code: CodeUnknownFileType, Message: "the first line must start with 0;PAYMENTS;, 0;REFUNDS; or 0;MANDATES;, or the file must be a pain.008.001.02 or pain.008.001.08 XML document"}
	return d, nil
}

// detectXML reads the XML prolog in buf up to the root element.
func detectXML(d detection, buf []byte) (detection, error) {
	dec := xml.NewDecoder(bytes.NewReader(buf))
	declared := ""
	dec.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		declared = label // decide below, once the root element is known
		return input, nil
	}
	for {
		tok, err := dec.RawToken()
		if err != nil {
			// Broken prolog, or a prolog longer than the buffer: nothing
			// tells us this is a pain.008.
			d.issue = &Issue{Code: CodeUnknownFileType, Message: "the file looks like XML but no root element was found: " + xmlErrText(err)}
			return d, nil
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		ns := ""
		for _, a := range se.Attr {
			if (se.Name.Space == "" && a.Name.Space == "" && a.Name.Local == "xmlns") ||
				(se.Name.Space != "" && a.Name.Space == "xmlns" && a.Name.Local == se.Name.Space) {
				ns = a.Value
			}
		}
		if se.Name.Local != "Document" || (ns != NamespacePain008V02 && ns != NamespacePain008V08) {
			what := "no namespace"
			if ns != "" {
				what = "namespace " + ns
			}
			d.issue = &Issue{Code: CodeUnknownFileType, Message: fmt.Sprintf("XML root element %s with %s is not a supported pain.008 document (pain.008.001.02 or pain.008.001.08)", se.Name.Local, what)}
			return d, nil
		}
		d.typ = Pain008
		switch {
		case d.bom:
			// SEPA.md §1.4 POLICY: an XML file is plain UTF-8, no BOM.
			d.issue = &Issue{Code: CodeEncoding, Message: "an XML file must not start with a byte-order mark"}
		case declared != "" && !strings.EqualFold(declared, "UTF-8"):
			d.issue = &Issue{Code: CodeEncoding, Message: fmt.Sprintf("XML encoding %s is not accepted, use UTF-8", declared)}
		}
		return d, nil
	}
}

func xmlErrText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of data"
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

// firstInvalidUTF8 returns the 1-based line of the first byte of b that is
// not UTF-8. When b is only a prefix of the file (full false), a rune cut
// by the end of b is not an error.
func firstInvalidUTF8(b []byte, full bool) (int, bool) {
	line := 1
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == '\n' {
				line++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			if !full && !utf8.FullRune(b[i:]) {
				return 0, true
			}
			return line, false
		}
		i += n
	}
	return 0, true
}

// crOnly reports whether the first line break in the first 4 KiB is a CR
// not followed by LF.
func crOnly(br *bufio.Reader) bool {
	b, _ := br.Peek(MaxLineBytes)
	i := bytes.IndexAny(b, "\r\n")
	return i >= 0 && b[i] == '\r' && (i+1 < len(b) && b[i+1] != '\n')
}
