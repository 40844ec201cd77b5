package formats

// Streaming validation of the CSV file types (FORMATS.md §1, §2.1-2.3,
// §2.5). One pass, one line in memory; what grows with the file is only the
// duplicate-reference set (see refSet).

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Validate reads a whole file and reports its summary and every issue found
// (capped at MaxIssues, then one TOO_MANY_ERRORS). The file type comes from
// the content: CSV files are checked here, pain.008 documents by
// validatePain008. The error is for I/O failures of r only; a bad file is
// reported as issues, sorted by line (whole-file issues first).
func Validate(r io.Reader, opt Options) (Summary, []Issue, error) {
	br := bufio.NewReaderSize(r, bufSize)
	d, err := detect(br)
	if err != nil {
		return Summary{}, nil, err
	}
	if d.issue != nil {
		return Summary{Type: d.typ}, []Issue{*d.issue}, nil
	}
	if d.typ == Pain008 {
		return validatePain008(br, opt)
	}
	v := newCSVValidator(schemaFor(d.typ), opt)
	return v.run(br)
}

// issueList collects issues up to a cap.
type issueList struct {
	list  []Issue
	max   int
	full  bool // TOO_MANY_ERRORS reached: stop
	total int
}

func (l *issueList) add(line int, col, code, msg string) {
	if l.full {
		return
	}
	if len(l.list) >= l.max {
		l.full = true
		l.list = append(l.list, Issue{Line: line, Code: CodeTooManyErrors,
			Message: fmt.Sprintf("more than %d errors, the check stopped at line %d", l.max, line)})
		return
	}
	l.list = append(l.list, Issue{Line: line, Column: col, Code: code, Message: msg})
}

// late adds an issue found after the streaming pass (whole-file checks),
// which may be on any line: the cap is applied by sorted, in line order.
func (l *issueList) late(line int, col, code, msg string) {
	if l.full || len(l.list) > 2*l.max {
		return // beyond what sorted can keep anyway, whatever the order
	}
	l.list = append(l.list, Issue{Line: line, Column: col, Code: code, Message: msg})
}

// sorted returns the issues in line order, at most max of them, then
// TOO_MANY_ERRORS last when there were more.
func (l *issueList) sorted() []Issue {
	n := len(l.list)
	if l.full {
		n--
	}
	slices.SortStableFunc(l.list[:n], func(a, b Issue) int { return a.Line - b.Line })
	if !l.full && n > l.max {
		last := l.list[l.max-1].Line
		l.list = append(l.list[:l.max], Issue{Line: last, Code: CodeTooManyErrors,
			Message: fmt.Sprintf("more than %d errors, the check stopped at line %d", l.max, last)})
	}
	return l.list
}

// csvValidator holds the state of one CSV validation.
type csvValidator struct {
	s      *schema
	opt    Options
	issues issueList
	sp     splitter

	// from the title line
	idx    []int // schema column → field index, -1 absent
	ncols  int   // fields of the title line
	titles []string

	// totals line
	declCount int
	declTotal int64
	totalsOK  bool

	lines     int
	total     int64
	amountsOK bool // every AMOUNT parsed, so the sum means something
	refs      *refSet

	blankRun int // blank lines seen since the last data line
	blankAt  int // first of them
}

func newCSVValidator(s *schema, opt Options) *csvValidator {
	max := MaxIssues
	if opt.MaxIssues > 0 {
		max = opt.MaxIssues
	}
	v := &csvValidator{s: s, opt: opt, issues: issueList{max: max}, amountsOK: true}
	if s.unique >= 0 {
		v.refs = newRefSet()
	}
	return v
}

func (v *csvValidator) run(br *bufio.Reader) (Summary, []Issue, error) {
	sc := newLineScanner(br)
	for !v.issues.full {
		l, err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Summary{}, nil, err
		}
		v.line(l)
	}
	if !v.issues.full {
		v.finish(sc.no)
	}
	sum := Summary{Type: v.s.typ, Lines: v.lines, Total: v.total, Currency: "EUR"}
	return sum, v.issues.sorted(), nil
}

// line dispatches one physical line by its position.
func (v *csvValidator) line(l physLine) {
	if l.tooLong > 0 {
		v.issues.add(l.no, "", CodeLineTooLong, fmt.Sprintf("line is %d bytes long, at most %d allowed", l.tooLong, MaxLineBytes))
		if l.no > 3 {
			v.dataSeen(l.no)
			v.amountsOK = false
		}
		return
	}
	if !utf8.Valid(l.data) {
		v.issues.add(l.no, "", CodeEncoding, fmt.Sprintf("line is not valid UTF-8 at byte %d, save the file as UTF-8", invalidAt(l.data)+1))
		if l.no > 3 {
			v.dataSeen(l.no)
			v.amountsOK = false
		}
		return
	}
	switch l.no {
	case 1:
		v.header(l)
	case 2:
		v.totals(l)
	case 3:
		v.titleLine(l)
	default:
		if isBlankLine(l.data) {
			if v.blankRun == 0 {
				v.blankAt = l.no
			}
			v.blankRun++
			return
		}
		v.dataSeen(l.no)
		v.record(l)
	}
}

// dataSeen counts a data line and reports blank lines before it: blank
// lines are only allowed at the end of the file.
func (v *csvValidator) dataSeen(no int) {
	if v.blankRun > 0 {
		v.issues.add(v.blankAt, "", CodeFieldCount, "empty line, blank lines are allowed only at the end of the file")
		v.blankRun = 0
	}
	v.lines++
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return 0
}

// splitLine splits a line, reporting bad quoting as FIELD_COUNT.
func (v *csvValidator) splitLine(l physLine) bool {
	if f, err := v.sp.split(l.data); err != nil {
		v.issues.add(l.no, "", CodeFieldCount, fmt.Sprintf("field %d has a quote that is not closed or not alone (quote a whole value, and write \"\" for a quote inside it)", f))
		return false
	}
	return true
}

// header checks "0;<TYPE>;<creditor reference>;<company name>;".
func (v *csvValidator) header(l physLine) {
	if !v.splitLine(l) {
		return
	}
	v.sp.dropTrailing(4)
	f := v.sp.fields
	if len(f) != 4 {
		v.issues.add(1, "", CodeHeader, fmt.Sprintf("the merchant line must be 0;%s;<creditor reference>;<company name>; with 4 values, found %d", v.s.typ, v.sp.count()))
		return
	}
	ref := string(f[2])
	switch {
	case ref == "":
		v.issues.add(1, "", CodeHeader, "the creditor reference (third value of line 1) is missing")
	case v.opt.CreditorRef != "" && ref != v.opt.CreditorRef:
		v.issues.add(1, "", CodeCreditorMismatch, fmt.Sprintf("creditor reference %s is not this account's (%s)", quoteShort(ref), v.opt.CreditorRef))
	}
	if len(f[3]) == 0 {
		v.issues.add(1, "", CodeHeader, "the company name (fourth value of line 1) is missing")
	} else if r, bad := controlRune(f[3]); bad {
		v.issues.add(1, "", CodeHeader, fmt.Sprintf("the company name contains %s", describeRune(r)))
	}
}

// totals checks "1;<direction>;<count>;<total>;EUR;".
func (v *csvValidator) totals(l physLine) {
	if !v.splitLine(l) {
		return
	}
	v.sp.dropTrailing(5)
	f := v.sp.fields
	want := fmt.Sprintf("1;%s;<number of lines>;<total amount>;EUR;", v.s.direction)
	if len(f) != 5 || string(f[0]) != "1" {
		v.issues.add(2, "", CodeTotalsLine, fmt.Sprintf("line 2 must be %s", want))
		return
	}
	ok := true
	if d := string(f[1]); d != v.s.direction {
		v.issues.add(2, "", CodeTotalsLine, fmt.Sprintf("the second value of line 2 must be %s for a %s file, not %s", v.s.direction, v.s.typ, quoteShort(d)))
		ok = false
	}
	n, err := strconv.ParseUint(string(f[2]), 10, 31)
	if err != nil || !isDigits(f[2]) {
		v.issues.add(2, "", CodeTotalsLine, fmt.Sprintf("the number of lines %s is not a whole number", quoteShort(string(f[2]))))
		ok = false
	}
	// A file total may pass a billion; 15 digits keep any sum of int64
	// cents exact.
	t, err := parseCents(string(f[3]), 15)
	if err != nil {
		v.issues.add(2, "", CodeTotalsLine, "the total: "+err.Error())
		ok = false
	} else if v.s.typ == Mandates && t != 0 {
		v.issues.add(2, "", CodeTotalsLine, fmt.Sprintf("the total of a MANDATES file must be 0, not %s", f[3]))
		ok = false
	}
	if c := string(f[4]); c != "EUR" {
		v.issues.add(2, "", CodeTotalsLine, fmt.Sprintf("the currency of line 2 must be EUR, not %s", quoteShort(c)))
		ok = false
	}
	v.declCount, v.declTotal, v.totalsOK = int(n), t, ok
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// titleLine maps column titles to the schema.
func (v *csvValidator) titleLine(l physLine) {
	v.idx = make([]int, len(v.s.columns))
	for i := range v.idx {
		v.idx[i] = -1
	}
	if !v.splitLine(l) {
		v.idx = nil // data lines cannot be checked without titles
		return
	}
	f := v.sp.fields
	if n := len(f); n > 1 && len(f[n-1]) == 0 && !v.sp.quoted[n-1] {
		f = f[:n-1] // optional trailing ';'
	}
	v.ncols = len(f)
	v.titles = make([]string, len(f))
	for i, b := range f {
		t := string(b)
		v.titles[i] = t
		c := v.s.col(t)
		switch {
		case c < 0 && t == "":
			v.issues.add(3, "", CodeUnknownColumn, fmt.Sprintf("column %d has no title", i+1))
		case c < 0:
			v.issues.add(3, t, CodeUnknownColumn, v.unknownColumnMsg(t))
		case v.idx[c] >= 0:
			v.issues.add(3, t, CodeDuplicateColumn, fmt.Sprintf("column %s appears twice (columns %d and %d)", t, v.idx[c]+1, i+1))
		default:
			v.idx[c] = i
		}
	}
	for c, col := range v.s.columns {
		if col.required && v.idx[c] < 0 {
			v.issues.add(3, col.name, CodeMissingColumn, fmt.Sprintf("required column %s is missing", col.name))
		}
	}
}

func (v *csvValidator) unknownColumnMsg(t string) string {
	for _, c := range v.s.columns {
		if equalFoldASCII(c.name, t) {
			return fmt.Sprintf("unknown column %s, column titles are upper case: %s", quoteShort(t), c.name)
		}
	}
	return fmt.Sprintf("unknown column %s for a %s file", quoteShort(t), v.s.typ)
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'a' && x <= 'z' {
			x -= 32
		}
		if y >= 'a' && y <= 'z' {
			y -= 32
		}
		if x != y {
			return false
		}
	}
	return true
}

// record checks one data line.
func (v *csvValidator) record(l physLine) {
	if v.idx == nil {
		v.amountsOK = false
		return
	}
	if !v.splitLine(l) {
		v.amountsOK = false
		return
	}
	v.sp.dropTrailing(v.ncols)
	f := v.sp.fields
	if len(f) != v.ncols {
		v.issues.add(l.no, "", CodeFieldCount, fmt.Sprintf("line has %d values, the title line has %d columns", v.sp.count(), v.ncols))
		v.amountsOK = false
		return
	}
	var cents int64
	amountOK := false
	for c := range v.s.columns {
		i := v.idx[c]
		col := &v.s.columns[c]
		if i < 0 {
			continue
		}
		val := f[i]
		if len(val) == 0 {
			if col.required {
				v.issues.add(l.no, col.name, CodeMissingValue, col.name+" is required")
			}
			continue
		}
		code, msg := valueIssue(col, val, v.opt.Today, &cents)
		if code != "" {
			v.issues.add(l.no, col.name, code, msg)
			continue
		}
		if c == v.s.amount {
			amountOK = true
		}
		if c == v.s.unique {
			v.refs.add(val, l.no)
		}
	}
	if v.s.amount >= 0 {
		if amountOK {
			v.total += cents
		} else {
			v.amountsOK = false
		}
	}
	if v.s.typ == Mandates {
		v.mandateNeeds(l.no, f)
	}
}

// mandateNeeds checks the values a MANDATES line needs for its action.
func (v *csvValidator) mandateNeeds(no int, f [][]byte) {
	get := func(name string) []byte {
		if i := v.idx[v.s.colIndex(name)]; i >= 0 {
			return f[i]
		}
		return nil
	}
	switch string(get(colAction)) {
	case ActionCreate:
		for _, name := range []string{colSignDate, colDebtorName, colDebtorIBAN} {
			if len(get(name)) == 0 {
				v.issues.add(no, name, CodeMissingValue, name+" is required to CREATE a mandate")
			}
		}
	case ActionAmend:
		if len(get(colSignDate))+len(get(colDebtorName))+len(get(colDebtorIBAN))+len(get(colDebtorBIC))+len(get(colScheme))+len(get(colClientRef)) == 0 {
			v.issues.add(no, colDebtorIBAN, CodeMissingValue, "AMEND needs at least one value to change (DEBTOR_IBAN, DEBTOR_NAME, DEBTOR_BIC, MANDATE_SIGNATURE_DATE, SCHEME or CLIENT_REFERENCE)")
		}
	}
}

// finish runs the whole-file checks once every line is read.
func (v *csvValidator) finish(lastLine int) {
	if v.refs != nil {
		v.duplicates()
	}
	switch {
	case lastLine < 2:
		v.issues.add(2, "", CodeTotalsLine, "line 2, the totals line, is missing")
		return
	case lastLine < 3:
		v.issues.add(3, "", CodeMissingColumn, "line 3, the column titles, is missing")
		return
	}
	if !v.totalsOK {
		return
	}
	if v.declCount != v.lines {
		v.issues.add(2, "", CodeCountMismatch, fmt.Sprintf("totals line says %d lines, the file has %d", v.declCount, v.lines))
	}
	if v.s.amount >= 0 && v.amountsOK && v.declTotal != v.total {
		v.issues.add(2, "", CodeTotalMismatch, fmt.Sprintf("totals line says %s, lines add up to %s", FormatAmount(v.declTotal), FormatAmount(v.total)))
	}
}

// bytesString views b as a string without copying. The result must not
// outlive the line buffer b points into; callers only read it.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// duplicates reports every reference used twice, on the later line(s).
func (v *csvValidator) duplicates() {
	type dup struct{ line, first int }
	var dups []dup
	v.refs.duplicates(func(line, first int) { dups = append(dups, dup{line, first}) })
	slices.SortFunc(dups, func(a, b dup) int { return a.line - b.line })
	name := v.s.columns[v.s.unique].name
	for _, d := range dups {
		v.issues.late(d.line, name, CodeDuplicateRef, fmt.Sprintf("%s is already used on line %d", name, d.first))
	}
}
