package formats

// What is left of the placeholders: pain008.go's bodies still return this
// until the streaming pain.008 implementation lands. Delete with them.

import "errors"

var errUnimplemented = errors.New("formats: not implemented yet")
