package formats

// xmlGuard is a byte-level lexer that sits between an upload and
// encoding/xml. encoding/xml buffers a whole token (a text node, a tag, a
// comment, a CDATA section, a directive) before returning it, so a hostile
// file made of one 500 MB text node would be held in memory in full. The
// guard follows just enough of the XML syntax to know which token a byte
// belongs to, and fails the read as soon as one token grows past
// xmlMaxToken bytes, or a DTD or other <! declaration starts (DTDs carry
// entity definitions: billion-laughs and external entities). It never
// buffers: it only looks at the bytes passing through.

import (
	"bytes"
	"fmt"
	"io"
)

// xmlMaxToken bounds every token of a pain.008 file. The longest value the
// schema allows is 2048 characters (an e-mail address), 8 KiB even in 4-byte
// UTF-8; tags with their attributes and comments stay far below.
const xmlMaxToken = 8 << 10

// guardError is the read error the guard returns: the file is refused.
type guardError struct {
	line int    // 1-based line where the offending token is
	code string // CodeTooLong (text) or CodeXMLStructure
	msg  string
}

func (e *guardError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Lexer states of the guard.
const (
	gText    = iota // character data
	gLT             // just after '<'
	gBang           // just after "<!"
	gTag            // inside a start or end tag, outside quotes
	gQuote          // inside a quoted attribute value
	gComment        // inside <!-- -->
	gCDATA          // inside <![CDATA[ ]]>
	gPI             // inside <? ?>
)

type xmlGuard struct {
	r       io.Reader
	err     error
	readErr error // a failure of r itself (not the end, not a refusal)
	line    int
	state   int
	run     int  // bytes in the current token
	quote   byte // the quote that closes gQuote
	last2   [2]byte
	slow    bool // byte by byte only (tests compare both paths)
}

var newline = []byte{'\n'}

func newXMLGuard(r io.Reader) *xmlGuard { return &xmlGuard{r: r, line: 1} }

func (g *xmlGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i := 0; i < n; {
		// Fast paths for the two states most bytes are in; step is the
		// reference for every byte they do not take.
		if !g.slow {
			var j int
			switch g.state {
			case gText:
				j = bytes.IndexByte(p[i:n], '<')
				if j < 0 {
					j = n - i
				}
			case gTag:
				for j = 0; i+j < n; j++ {
					if c := p[i+j]; c == '>' || c == '"' || c == '\'' {
						break
					}
				}
			}
			if j > 0 && g.run+j <= xmlMaxToken {
				g.line += bytes.Count(p[i:i+j], newline)
				g.run += j
				i += j
				continue
			}
		}
		if e := g.step(p[i]); e != nil {
			// Hand over the bytes before the offending one so the
			// decoder's position (and our element stack) is where the
			// problem is; the next Read returns the error.
			g.err = e
			return i, nil
		}
		i++
	}
	if err != nil {
		g.err = err
		if err != io.EOF {
			g.readErr = err
		}
	}
	return n, err
}

func (g *xmlGuard) step(c byte) *guardError {
	if c == '\n' {
		g.line++
	}
	g.run++
	switch g.state {
	case gText:
		if c == '<' {
			g.state, g.run = gLT, 0
		} else if g.run > xmlMaxToken {
			return &guardError{g.line, CodeTooLong, fmt.Sprintf("text longer than %d bytes; no pain.008 field is that long", xmlMaxToken)}
		}
		return nil
	case gLT:
		switch c {
		case '!':
			g.state = gBang
		case '?':
			g.state = gPI
		default:
			g.state = gTag
		}
		return nil
	case gBang:
		switch c {
		case '-':
			g.state = gComment
		case '[':
			g.state = gCDATA
		default:
			return &guardError{g.line, CodeXMLStructure, "DTDs and <! declarations are not allowed (no DOCTYPE, no ENTITY)"}
		}
		g.last2 = [2]byte{}
		return nil
	case gTag:
		switch c {
		case '>':
			g.state, g.run = gText, 0
			return nil
		case '"', '\'':
			g.state, g.quote = gQuote, c
		}
	case gQuote:
		if c == g.quote {
			g.state = gTag
		}
	case gComment, gCDATA, gPI:
		var done bool
		switch g.state {
		case gComment:
			done = c == '>' && g.last2 == [2]byte{'-', '-'}
		case gCDATA:
			done = c == '>' && g.last2 == [2]byte{']', ']'}
		case gPI:
			done = c == '>' && g.last2[1] == '?'
		}
		g.last2 = [2]byte{g.last2[1], c}
		if done {
			g.state, g.run = gText, 0
			return nil
		}
		if g.state == gCDATA && g.run > xmlMaxToken {
			return &guardError{g.line, CodeTooLong, fmt.Sprintf("text longer than %d bytes; no pain.008 field is that long", xmlMaxToken)}
		}
	}
	if g.run > xmlMaxToken {
		return &guardError{g.line, CodeXMLStructure, fmt.Sprintf("markup (tag, comment or processing instruction) longer than %d bytes", xmlMaxToken)}
	}
	return nil
}
