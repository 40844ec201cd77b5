package formats

// pain.008 (ISO 20022 customer direct debit initiation), versions
// pain.008.001.02 and pain.008.001.08 (FORMATS.md §2.4, SEPA.md §2).
//
// One streaming engine serves both validatePain008 and pain008Reader: it
// pulls tokens from encoding/xml (behind xmlGuard, which bounds every token
// and refuses DTDs), checks each element against the ISO schema of the
// document's namespace (pain008_xsd.go), and runs the SEPA rules attached to
// element paths (pain008_rules.go). Memory is constant in the size of the
// file except for the end-to-end id set (refSet, 16 bytes per transaction)
// and the line of each end-to-end id (4 bytes), to report duplicates.
//
// Decisions (see also docs/DECISIONS.md, "formats: pain.008"):
//   - Issue.Line is the line of the element's start tag; Issue.Column is the
//     path below CstmrDrctDbtInitn, with a 1-based index on elements that may
//     repeat: PmtInf[1]/DrctDbtTxInf[17]/DbtrAcct/Id/IBAN.
//   - A well-formedness error, a DTD, an over-long token, nesting deeper than
//     32 elements, a non-UTF-8 file or an unsupported namespace ends the
//     check (the rest of the file cannot be trusted); every other error is
//     collected and the check goes on, up to MaxIssues.
//   - Namespaces other than pain.008.001.02 and .08 are UNKNOWN_FILE_TYPE:
//     the German DK variant pain.008.003.02 (an optional alias in SEPA.md)
//     is not supported, and the Swiss pain.008.001.02.ch.03 is not SEPA.
//   - An element with an error is reported once (its first error), and an
//     unknown or misplaced element is reported without its content.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// maxXMLDepth is the deepest element nesting accepted (FORMATS.md §2.4).
// The deepest path the pain.008 schemas allow is 14 elements.
const maxXMLDepth = 32

// validatePain008 validates a whole pain.008 document from r (FORMATS.md
// §2.4, SEPA.md §2) and returns its summary and every issue found.
func validatePain008(r io.Reader, opt Options) (Summary, []Issue, error) {
	p := newP8Parser(r, opt, false)
	for p.next() {
	}
	if p.ioErr != nil {
		return Summary{}, nil, p.ioErr
	}
	issues := p.issues
	var tooMany *Issue
	if n := len(issues); n > 0 && issues[n-1].Code == CodeTooManyErrors {
		tooMany, issues = &issues[n-1], issues[:n-1]
	}
	// Count and total mismatches are found at the end of their scope but
	// belong to the line of the NbOfTxs/CtrlSum element: keep line order.
	sort.SliceStable(issues, func(i, j int) bool { return issues[i].Line < issues[j].Line })
	if tooMany != nil {
		issues = append(issues, *tooMany)
	}
	return Summary{Type: Pain008, Lines: p.nTx, Total: p.total, Currency: "EUR"}, issues, nil
}

// pain008Reader streams the payments of a valid pain.008 document.
type pain008Reader struct {
	p *p8Parser
}

// newPain008Reader prepares to stream the transactions of a document that
// validatePain008 accepted. It reads nothing until the first Next.
func newPain008Reader(r io.Reader) (*pain008Reader, error) {
	if _, err := pain008Models(); err != nil {
		return nil, err
	}
	return &pain008Reader{p: newP8Parser(r, Options{}, true)}, nil
}

// ErrPain008Invalid is wrapped by pain008Reader.Next when the document turns
// out not to be valid (it was not validated first, or it changed since).
var ErrPain008Invalid = errors.New("pain.008 document is not valid")

// Next returns the next transaction as a Payment (Line = its 1-based
// position in the file), or io.EOF.
func (pr *pain008Reader) Next() (Payment, error) {
	p := pr.p
	ok := p.next()
	if p.ioErr != nil {
		return Payment{}, p.ioErr
	}
	if len(p.issues) > 0 {
		is := p.issues[0]
		return Payment{}, fmt.Errorf("%w: line %d %s: %s: %s", ErrPain008Invalid, is.Line, is.Column, is.Code, is.Message)
	}
	if !ok {
		return Payment{}, io.EOF
	}
	return p.out, nil
}

// p8Frame is one open element.
type p8Frame struct {
	name   string
	prefix string // namespace prefix as written, to match the end tag
	index  int    // 1-based occurrence among its siblings; 0 when it cannot repeat
	line   int
	elem   *p8Elem // nil for skipped content
	typ    *p8Type
	rule   *p8Rule
	skip   bool // unknown or misplaced element: its content is not checked

	pos    int // sequence: index of the current child declaration
	count  int // occurrences of kids[pos] (sequence) or of the chosen child (choice)
	chosen int // choice: index of the chosen child, -1 before the first

	text    []byte // simple content
	wrapped bool   // ReqdColltnDt given as <Dt> (tolerated in .08)
	textErr bool   // unexpected text already reported

	// missing lists the children reported missing because a later sibling
	// came first; if one turns up after all, that report becomes "out of
	// order" instead of a second issue.
	missing []p8Missing
}

type p8Missing struct{ kid, issue int }

// p8NSBinding is one xmlns declaration, valid at depth and below.
type p8NSBinding struct {
	prefix, uri string
	depth       int
}

// resolve applies the namespace declarations of a raw start tag and
// replaces the prefixes of the element and its attributes by namespaces.
func (p *p8Parser) resolve(t xml.StartElement) (xml.StartElement, bool) {
	depth := len(p.stack) + 1
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns":
			p.ns = append(p.ns, p8NSBinding{a.Name.Local, a.Value, depth})
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			p.ns = append(p.ns, p8NSBinding{"", a.Value, depth})
		}
	}
	p.rawPrefix = t.Name.Space
	uri, ok := p.lookupNS(t.Name.Space)
	if !ok {
		p.fatal(p.line(), "", CodeXMLSyntax, fmt.Sprintf("namespace prefix %s of <%s:%s> is not declared", t.Name.Space, t.Name.Space, t.Name.Local))
		return t, false
	}
	t.Name.Space = uri
	for i := range t.Attr {
		a := &t.Attr[i]
		if a.Name.Space == "" || a.Name.Space == "xmlns" {
			continue // unprefixed attributes are in no namespace
		}
		if a.Name.Space, ok = p.lookupNS(a.Name.Space); !ok {
			p.fatal(p.line(), "", CodeXMLSyntax, fmt.Sprintf("namespace prefix of attribute %s is not declared", a.Name.Local))
			return t, false
		}
	}
	return t, true
}

func (p *p8Parser) lookupNS(prefix string) (string, bool) {
	if prefix == "xml" {
		return "http://www.w3.org/XML/1998/namespace", true
	}
	for i := len(p.ns) - 1; i >= 0; i-- {
		if p.ns[i].prefix == prefix {
			return p.ns[i].uri, true
		}
	}
	return "", prefix == ""
}

// p8Declared is a NbOfTxs or CtrlSum value with where it was found.
type p8Declared struct {
	set  bool
	n    int64
	line int
	path string
}

// p8PmtInf is what a PmtInf block says for all its transactions.
type p8PmtInf struct {
	line          int
	path          string
	nb, sum       p8Declared
	nTx           int
	total         int64
	badAmount     bool
	svcLvl        bool // SvcLvl given (valid or not)
	lclInstrm     bool
	seqTpSeen     bool
	scheme        string
	seqTp         string
	execDate      time.Time
	ci            string
	ciSeen        bool
	ciMissingSaid bool
	tpInfChecked  bool
	cdtrNm        bool
}

// p8Tx collects one DrctDbtTxInf.
type p8Tx struct {
	line         int
	e2eLine      int // line of the EndToEndId, when recorded for the duplicate check
	pay          Payment
	mndtID       bool
	dtOfSgntr    bool
	dbtr         bool
	dbtrNm       bool
	ci           string
	ciLine       int
	ciPath       string
	amdmntInd    bool
	amdmntLine   int
	amdmntDtls   bool
	amdmntDtLine int
	ustrd, strd  int
	tpScheme     string
	tpSeqTp      string
	amountOK     bool
}

// p8Parser is the streaming engine shared by the validator and the reader.
type p8Parser struct {
	dec    *xml.Decoder
	guard  *xmlGuard
	opt    Options
	today  time.Time // opt.Today's calendar day at UTC midnight, like ParseDate's
	reader bool      // stream for processing: skip checks that need Options or memory
	model  *p8Model

	stack     []p8Frame
	ns        []p8NSBinding // namespace declarations in scope
	rawPrefix string        // prefix of the start tag being handled
	issues    []Issue
	stop      bool  // no more tokens are read
	ioErr     error // a read error of the input (not a file problem)

	rootSeen, rootDone bool
	declEnc            string // encoding declared in <?xml?> other than UTF-8
	sawContent         bool

	grpNb, grpSum p8Declared
	nTx           int
	total         int64
	badAmount     bool

	pi p8PmtInf
	tx p8Tx

	seed      maphash.Seed
	e2e       *refSet    // end-to-end ids by transaction number, checked at the end
	e2eLines  [][]uint32 // line of each transaction's EndToEndId, in chunks
	pmtInfTx  []int      // number of transactions before each PmtInf
	pmtInfIDs map[uint64]int

	out   Payment
	ready bool
}

func newP8Parser(r io.Reader, opt Options, reader bool) *p8Parser {
	p := &p8Parser{opt: opt, reader: reader, seed: maphash.MakeSeed()}
	if !opt.Today.IsZero() {
		y, m, d := opt.Today.Date()
		p.today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	p.guard = newXMLGuard(r)
	p.dec = xml.NewDecoder(p.guard)
	p.dec.Strict = true
	p.dec.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		p.declEnc = label
		return nil, errors.New("encoding refused")
	}
	if !reader {
		p.e2e = newRefSet()
		p.pmtInfIDs = map[uint64]int{}
	}
	p.stack = make([]p8Frame, 0, 16)
	return p
}

// issue records one problem. At MaxIssues it adds TOO_MANY_ERRORS and stops.
func (p *p8Parser) issue(line int, path, code, msg string) {
	if p.stop && code != CodeTooManyErrors {
		return
	}
	p.issues = append(p.issues, Issue{Line: line, Column: path, Code: code, Message: msg})
	if p.reader {
		p.stop = true // the reader fails on the first problem
		return
	}
	limit := p.issueLimit()
	if len(p.issues) == limit {
		p.issues = append(p.issues, Issue{Line: line, Code: CodeTooManyErrors,
			Message: fmt.Sprintf("more than %d errors, the check stopped at line %d", limit, line)})
		p.stop = true
	}
}

// issueLimit is how many issues are collected before TOO_MANY_ERRORS.
func (p *p8Parser) issueLimit() int {
	if p.opt.MaxIssues > 0 {
		return p.opt.MaxIssues
	}
	return MaxIssues
}

// here reports on the innermost open element.
func (p *p8Parser) here(code, msg string) {
	f := p.top()
	p.issue(f.line, p.path(""), code, msg)
}

// fatal reports a problem after which the file cannot be read further.
func (p *p8Parser) fatal(line int, path, code, msg string) {
	p.issue(line, path, code, msg)
	p.stop = true
}

func (p *p8Parser) top() *p8Frame { return &p.stack[len(p.stack)-1] }

// path is the element path of the innermost open element (plus child, when
// given) below CstmrDrctDbtInitn.
func (p *p8Parser) path(child string) string {
	var b strings.Builder
	start := 2
	if len(p.stack) < 2 {
		start = 0
	} else if len(p.stack) == 2 && child == "" {
		start = 1
	}
	for i := start; i < len(p.stack); i++ {
		f := &p.stack[i]
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(f.name)
		if f.index > 0 {
			fmt.Fprintf(&b, "[%d]", f.index)
		}
	}
	if child != "" {
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(child)
	}
	return b.String()
}

func (p *p8Parser) line() int {
	l, _ := p.dec.InputPos()
	return l
}

// next reads tokens until a transaction is complete (true, in p.out) or the
// document ends or the check stops (false).
func (p *p8Parser) next() bool {
	p.ready = false
	for !p.stop {
		// RawToken, not Token: Token boxes every tag twice and keeps its
		// own element stack; ours does the same work (end-tag matching,
		// namespace scopes) for a third less time.
		tok, err := p.dec.RawToken()
		if err != nil {
			p.tokenError(err)
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			p.sawContent = true
			if t, ok := p.resolve(t); ok {
				p.start(t)
			}
		case xml.EndElement:
			p.end(t)
		case xml.CharData:
			p.chars(t)
		case xml.Directive:
			// The guard refuses these first; kept for safety.
			p.fatal(p.line(), "", CodeXMLStructure, "DTDs and <! declarations are not allowed")
		case xml.Comment, xml.ProcInst:
			p.sawContent = true
		}
		if p.ready {
			return true
		}
	}
	return false
}

// tokenError turns a decoder error into the final issue.
func (p *p8Parser) tokenError(err error) {
	var ge *guardError
	var se *xml.SyntaxError
	switch {
	case err == io.EOF:
		switch {
		case len(p.stack) > 0:
			p.fatal(p.line(), p.path(""), CodeXMLSyntax, fmt.Sprintf("unexpected end of file: <%s> is not closed", p.top().name))
		case !p.rootSeen && !p.sawContent:
			p.fatal(0, "", CodeEmptyFile, "the file is empty")
		case !p.rootSeen:
			p.fatal(0, "", CodeXMLStructure, "the document has no root element")
		}
	case errors.As(err, &ge):
		path := ""
		if len(p.stack) > 0 {
			path = p.path("")
		}
		p.fatal(ge.line, path, ge.code, ge.msg)
	case p.declEnc != "":
		p.fatal(0, "", CodeEncoding, fmt.Sprintf("the file declares encoding %q; only UTF-8 is accepted", p.declEnc))
	case errors.As(err, &se):
		code, msg := CodeXMLSyntax, se.Msg
		switch {
		case strings.Contains(se.Msg, "invalid UTF-8"):
			code, msg = CodeEncoding, "the file is not valid UTF-8"
		case strings.Contains(se.Msg, "entity"):
			msg = se.Msg + " (only &amp; &lt; &gt; &quot; &apos; and character references are allowed)"
		}
		path := ""
		if len(p.stack) > 0 {
			path = p.path("")
		}
		p.fatal(se.Line, path, code, msg)
	case p.guard.readErr != nil:
		p.ioErr = p.guard.readErr
		p.stop = true
	default:
		// encoding/xml reports a few problems as plain errors (an
		// unsupported XML version, for one).
		p.fatal(p.line(), "", CodeXMLSyntax, strings.TrimPrefix(err.Error(), "xml: "))
	}
}

// chars handles character data.
func (p *p8Parser) chars(t xml.CharData) {
	if len(p.stack) == 0 {
		if p.rootSeen || len(bytes.TrimSpace(t)) > 0 {
			if !p.rootSeen && bytes.HasPrefix(t, []byte("\uFEFF")) {
				p.fatal(0, "", CodeEncoding, "the file starts with a byte-order mark; send UTF-8 without BOM")
				return
			}
			if len(bytes.TrimSpace(t)) > 0 {
				p.fatal(p.line(), "", CodeXMLSyntax, "text outside the root element")
			}
		}
		return
	}
	f := p.top()
	switch {
	case f.skip:
	case f.typ.simple != nil:
		if len(f.text)+len(t) > xmlMaxToken {
			// Many small CDATA sections or entity references: as bad as
			// one long text node.
			p.fatal(f.line, p.path(""), CodeTooLong, fmt.Sprintf("value longer than %d bytes; no pain.008 field is that long", xmlMaxToken))
			return
		}
		f.text = append(f.text, t...)
	case len(bytes.TrimSpace(t)) > 0 && !f.textErr:
		f.textErr = true
		p.here(CodeXMLStructure, fmt.Sprintf("text is not allowed directly in %s", f.name))
	}
}

// start handles a start tag: structure against the schema, then rules.
func (p *p8Parser) start(t xml.StartElement) {
	line := p.line()
	name := t.Name.Local
	if len(p.stack) >= maxXMLDepth {
		p.fatal(line, p.path(name), CodeXMLStructure, fmt.Sprintf("elements nested deeper than %d levels", maxXMLDepth))
		return
	}
	if len(p.stack) == 0 {
		p.startRoot(t, line)
		return
	}
	parent := p.top()
	if parent.skip {
		p.push(p8Frame{name: name, line: line, skip: true})
		return
	}
	if parent.typ.any {
		// xs:any (SplmtryData/Envlp): exactly one element of any
		// namespace, whose content is not checked.
		if parent.count++; parent.count > 1 {
			p.issue(line, p.path(name), CodeXMLStructure, fmt.Sprintf("%s holds exactly one element", parent.name))
		}
		p.push(p8Frame{name: name, line: line, skip: true})
		return
	}
	if t.Name.Space != p.model.ns {
		p.issue(line, p.path(name), CodeXMLStructure, fmt.Sprintf("element %s is not in the %s namespace", name, p.model.version))
		p.push(p8Frame{name: name, line: line, skip: true})
		return
	}
	if parent.typ.simple != nil {
		if p.model.v08 && name == "Dt" && parent.elem.name == "ReqdColltnDt" && !parent.wrapped && len(bytes.TrimSpace(parent.text)) == 0 {
			// Some generators write the pain.001.001.09 form
			// <ReqdColltnDt><Dt>…</Dt></ReqdColltnDt> in .08: tolerated.
			parent.wrapped = true
			p.push(p8Frame{name: name, line: line, elem: parent.elem, typ: parent.typ, rule: parent.rule})
			return
		}
		p.issue(line, p.path(name), CodeXMLStructure, fmt.Sprintf("%s holds a value, not elements", parent.name))
		p.push(p8Frame{name: name, line: line, skip: true})
		return
	}
	el, index, ok := p.place(parent, name, line)
	if !ok {
		p.push(p8Frame{name: name, line: line, skip: true})
		return
	}
	f := p8Frame{name: name, index: index, line: line, elem: el, typ: el.typ, chosen: -1}
	if parent.rule != nil {
		f.rule = parent.rule.kids[name]
	}
	p.push(f)
	p.checkAttrs(t, line)
	if f.rule != nil && f.rule.start != nil {
		f.rule.start(p, t)
	}
}

// push opens a frame, reusing the text buffer of the slot.
func (p *p8Parser) push(f p8Frame) {
	f.prefix = p.rawPrefix
	if len(p.stack) < cap(p.stack) {
		buf := p.stack[:len(p.stack)+1][len(p.stack)].text
		f.text = buf[:0]
	}
	p.stack = append(p.stack, f)
}

// startRoot checks the Document element and picks the message version.
func (p *p8Parser) startRoot(t xml.StartElement, line int) {
	if p.rootDone {
		p.fatal(line, "", CodeXMLSyntax, "a second root element after the document")
		return
	}
	p.rootSeen = true
	models, err := pain008Models()
	if err != nil {
		p.ioErr = err
		p.stop = true
		return
	}
	if t.Name.Local != "Document" {
		p.fatal(line, t.Name.Local, CodeUnknownFileType, fmt.Sprintf("the root element is %s, not an ISO 20022 Document", t.Name.Local))
		return
	}
	m := models[t.Name.Space]
	if m == nil {
		msg := fmt.Sprintf("namespace %q is not supported; send pain.008.001.02 or pain.008.001.08", t.Name.Space)
		switch {
		case t.Name.Space == "":
			msg = "the Document has no namespace; send pain.008.001.02 or pain.008.001.08"
		case strings.Contains(t.Name.Space, ".ch."):
			msg = fmt.Sprintf("namespace %q is a Swiss (CH-DD) message, not SEPA; send pain.008.001.02 or pain.008.001.08", t.Name.Space)
		case strings.Contains(t.Name.Space, "pain.008.00"):
			msg = fmt.Sprintf("namespace %q is a version we do not accept; send pain.008.001.02 or pain.008.001.08", t.Name.Space)
		}
		p.fatal(line, "Document", CodeUnknownFileType, msg)
		return
	}
	p.model = m
	p.push(p8Frame{name: "Document", line: line, elem: m.root, typ: m.root.typ, chosen: -1, rule: p8DocumentRule})
	p.checkAttrs(t, line)
}

// place finds the declaration of child name in parent's content model and
// advances the model, reporting unknown, misplaced and repeated elements.
func (p *p8Parser) place(parent *p8Frame, name string, line int) (*p8Elem, int, bool) {
	typ := parent.typ
	j, known := typ.kidIdx[name]
	if !known {
		msg := fmt.Sprintf("element %s is not allowed in %s", name, parent.name)
		if hint := p8VersionHints[p.model.v08][name]; hint != "" {
			msg += "; " + hint
		}
		p.issue(line, p.path(name), CodeXMLStructure, msg)
		return nil, 0, false
	}
	el := typ.kids[j]
	if typ.choice {
		switch {
		case parent.chosen < 0:
			parent.chosen, parent.count = j, 1
		case parent.chosen == j:
			parent.count++
		default:
			p.issue(line, p.path(name), CodeXMLStructure, fmt.Sprintf("%s takes only one of %s; %s is already given", parent.name, kidNames(typ), typ.kids[parent.chosen].name))
			return nil, 0, false
		}
	} else {
		switch {
		case j == parent.pos:
			parent.count++
		case j > parent.pos:
			for k := parent.pos; k < j; k++ {
				c := 0
				if k == parent.pos {
					c = parent.count
				}
				if c < typ.kids[k].min {
					p.issue(line, p.path(typ.kids[k].name), CodeXMLStructure, fmt.Sprintf("element %s is missing before %s", typ.kids[k].name, name))
					if !p.stop {
						parent.missing = append(parent.missing, p8Missing{kid: k, issue: len(p.issues) - 1})
					}
				}
			}
			parent.pos, parent.count = j, 1
		default:
			msg := fmt.Sprintf("element %s is out of order: it must come before %s", name, typ.kids[parent.pos].name)
			for i, m := range parent.missing {
				if m.kid == j {
					is := &p.issues[m.issue]
					is.Line, is.Message = line, msg
					parent.missing = append(parent.missing[:i], parent.missing[i+1:]...)
					return nil, 0, false
				}
			}
			p.issue(line, p.path(name), CodeXMLStructure, msg)
			return nil, 0, false
		}
	}
	if el.max >= 0 && parent.count > el.max {
		p.issue(line, p.path(name), CodeXMLStructure, fmt.Sprintf("element %s appears more than %d times in %s", name, el.max, parent.name))
		return nil, 0, false
	}
	index := 0
	if el.max != 1 {
		index = parent.count
	}
	return el, index, true
}

// p8VersionHints explain the usual mix-up of the two versions' element
// names (by "is the document .08", then element name).
var p8VersionHints = map[bool]map[string]string{
	false: {
		"BICFI": "this document is pain.008.001.02, where the BIC element is BIC (BICFI is pain.008.001.08)",
		"UETR":  "UETR exists only in pain.008.001.08",
	},
	true: {
		"BIC": "this document is pain.008.001.08, where the BIC element is BICFI (BIC is pain.008.001.02)",
	},
}

func kidNames(t *p8Type) string {
	names := make([]string, len(t.kids))
	for i, k := range t.kids {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// checkAttrs checks the attributes of the element just opened: only the
// declared ones (InstdAmt@Ccy), namespace declarations and xsi:*.
func (p *p8Parser) checkAttrs(t xml.StartElement, line int) {
	f := p.top()
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") || a.Name.Space == nsXSI {
			continue
		}
		declared := false
		for _, d := range f.typ.attrs {
			if a.Name.Space == "" && a.Name.Local == d.name {
				declared = true
				if code, msg := checkSimple(d.typ, a.Value); code != "" {
					p.issue(line, p.path("")+"@"+d.name, code, msg)
				}
			}
		}
		if !declared {
			p.issue(line, p.path(""), CodeXMLStructure, fmt.Sprintf("attribute %s is not allowed on %s", a.Name.Local, f.name))
		}
	}
	for _, d := range f.typ.attrs {
		if d.required && !hasAttr(t, d.name) {
			p.issue(line, p.path("")+"@"+d.name, CodeXMLStructure, fmt.Sprintf("attribute %s is missing on %s", d.name, f.name))
		}
	}
}

func hasAttr(t xml.StartElement, name string) bool {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return true
		}
	}
	return false
}

func attrValue(t xml.StartElement, name string) (string, bool) {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// end handles an end tag.
func (p *p8Parser) end(t xml.EndElement) {
	if len(p.stack) == 0 {
		p.fatal(p.line(), "", CodeXMLSyntax, fmt.Sprintf("unexpected end tag </%s>", t.Name.Local))
		return
	}
	f := p.top()
	if t.Name.Local != f.name || t.Name.Space != f.prefix {
		p.fatal(p.line(), p.path(""), CodeXMLSyntax, fmt.Sprintf("element <%s> closed by </%s>", qname(f.prefix, f.name), qname(t.Name.Space, t.Name.Local)))
		return
	}
	for len(p.ns) > 0 && p.ns[len(p.ns)-1].depth >= len(p.stack) {
		p.ns = p.ns[:len(p.ns)-1]
	}
	if !f.skip {
		switch {
		case f.typ.simple != nil && !f.wrapped:
			p.endValue(f)
		case f.typ.any:
			if f.count == 0 {
				p.issue(p.line(), p.path(""), CodeXMLStructure, fmt.Sprintf("%s needs one element", f.name))
			}
		case f.typ.simple != nil:
		case f.typ.choice:
			if f.chosen < 0 {
				p.issue(p.line(), p.path(""), CodeXMLStructure, fmt.Sprintf("%s needs one of %s", f.name, kidNames(f.typ)))
			}
		default:
			for k := f.pos; k < len(f.typ.kids); k++ {
				c := 0
				if k == f.pos {
					c = f.count
				}
				if c < f.typ.kids[k].min {
					p.issue(p.line(), p.path(f.typ.kids[k].name), CodeXMLStructure, fmt.Sprintf("element %s is missing in %s", f.typ.kids[k].name, f.name))
				}
			}
		}
		if f.rule != nil && f.rule.end != nil {
			f.rule.end(p)
		}
	}
	p.stack = p.stack[:len(p.stack)-1]
	if len(p.stack) == 0 {
		p.rootDone = true
	}
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// endValue checks the text of a simple element and hands it to its rule.
func (p *p8Parser) endValue(f *p8Frame) {
	v := string(f.text)
	if f.typ.simple.base != "string" {
		// xs:decimal, xs:date, xs:dateTime and xs:boolean collapse
		// surrounding whitespace; strings keep it.
		v = strings.TrimSpace(v)
	}
	code, msg := checkSimple(f.typ.simple, v)
	if code != "" {
		p.here(code, msg)
	}
	if f.rule != nil && f.rule.value != nil {
		f.rule.value(p, v, code == "")
	}
}

// checkSimple checks a value against its simple type and returns the .err
// code and message of the first failure, or "".
func checkSimple(st *p8Simple, v string) (string, string) {
	switch st.base {
	case "string":
		n := utf8.RuneCountInString(v)
		if n == 0 && (st.minLen > 0 || st.pattern != nil || st.enum != nil) {
			return CodeMissingValue, "value is empty"
		}
		if n < st.minLen {
			return CodeInvalidValue, fmt.Sprintf("%d characters, at least %d needed", n, st.minLen)
		}
		if st.maxLen >= 0 && n > st.maxLen {
			return CodeTooLong, fmt.Sprintf("%d characters, at most %d allowed", n, st.maxLen)
		}
		if len(st.enum) > 0 {
			for _, e := range st.enum {
				if v == e {
					return "", ""
				}
			}
			if len(st.enum) <= 8 {
				return CodeInvalidValue, fmt.Sprintf("%s is not one of %s", quoteShort(v), strings.Join(st.enum, ", "))
			}
			return CodeInvalidValue, fmt.Sprintf("%s is not a valid code", quoteShort(v))
		}
		if st.pattern != nil && !st.pattern.MatchString(v) {
			switch st.name {
			case "IBAN2007Identifier":
				return CodeInvalidIBAN, fmt.Sprintf("%s is not an IBAN (2 letters, 2 digits, up to 30 letters or digits)", quoteShort(v))
			case "BICIdentifier", "BICFIIdentifier", "AnyBICIdentifier", "BICFIDec2014Identifier", "AnyBICDec2014Identifier":
				return CodeInvalidBIC, fmt.Sprintf("%s is not a BIC", quoteShort(v))
			}
			if v == "" {
				return CodeMissingValue, "value is empty"
			}
			return CodeInvalidValue, fmt.Sprintf("%s does not have the form the schema requires (%s)", quoteShort(v), st.name)
		}
	case "date":
		if _, err := ParseDate(v); err != nil {
			return CodeInvalidDate, err.Error()
		}
	case "dateTime":
		if !isISODateTime(v) {
			return CodeInvalidDate, fmt.Sprintf("%s is not a date and time like 2026-11-27T09:14:03", quoteShort(v))
		}
	case "boolean":
		switch v {
		case "true", "false", "1", "0":
		default:
			return CodeInvalidValue, fmt.Sprintf("%s is not true or false", quoteShort(v))
		}
	case "decimal":
		if msg := checkDecimal(st, v); msg != "" {
			return CodeInvalidAmount, msg
		}
	}
	return "", ""
}

// checkDecimal checks an xs:decimal value and its digit facets.
func checkDecimal(st *p8Simple, v string) string {
	s := v
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) || hasDot && s == "." {
		return fmt.Sprintf("%s is not a decimal number", quoteShort(v))
	}
	frac = strings.TrimRight(frac, "0")
	intPart = strings.TrimLeft(intPart, "0")
	if st.fracDigits >= 0 && len(frac) > st.fracDigits {
		return fmt.Sprintf("%s has more than %d decimals", quoteShort(v), st.fracDigits)
	}
	if st.totalDigits >= 0 && len(intPart)+len(frac) > st.totalDigits {
		return fmt.Sprintf("%s has more than %d digits", quoteShort(v), st.totalDigits)
	}
	if st.minIncl == "0" && neg && (intPart != "" || frac != "") {
		return fmt.Sprintf("%s is negative", quoteShort(v))
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isISODateTime accepts YYYY-MM-DDThh:mm:ss[.f+][Z|±hh:mm] (SEPA.md §1.6).
func isISODateTime(v string) bool {
	d, rest, ok := strings.Cut(v, "T")
	if !ok {
		return false
	}
	if _, err := ParseDate(d); err != nil {
		return false
	}
	if len(rest) < 8 || rest[2] != ':' || rest[5] != ':' || !allDigits(rest[:2]) || !allDigits(rest[3:5]) || !allDigits(rest[6:8]) {
		return false
	}
	if rest[:2] > "23" || rest[3:5] > "59" || rest[6:8] > "59" {
		return false
	}
	rest = rest[8:]
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	switch {
	case rest == "" || rest == "Z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		return allDigits(rest[1:3]) && allDigits(rest[4:6]) && rest[1:3] <= "14" && rest[4:6] <= "59"
	}
	return false
}
