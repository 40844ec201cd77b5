package formats

// pain.008 (ISO 20022 customer direct debit initiation), versions
// pain.008.001.02 and pain.008.001.08. Placeholder bodies: the real
// streaming implementation replaces them; the signatures are the contract
// with the dispatcher in Validate/NewReader.

import "io"

// validatePain008 validates a whole pain.008 document from r (FORMATS.md
// §2.4, SEPA.md §2) and returns its summary and every issue found.
func validatePain008(r io.Reader, opt Options) (Summary, []Issue, error) {
	return Summary{}, nil, errUnimplemented
}

// pain008Reader streams the payments of a valid pain.008 document.
type pain008Reader struct{}

func newPain008Reader(r io.Reader) (*pain008Reader, error) { return nil, errUnimplemented }

// Next returns the next transaction as a Payment (Line = its 1-based
// position in the file), or io.EOF.
func (p *pain008Reader) Next() (Payment, error) { return Payment{}, errUnimplemented }
