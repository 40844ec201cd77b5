package batch

// Service is the batch lifecycle. Placeholder: the batch engineer owns this
// file and fills it in.
type Service struct{}
