// Package batch is the lifecycle of a merchant's files: intake (pick-up to
// .ack/.err), processing (.res), sandbox settlement, the ledger, daily
// reports, the schedule, the sandbox clock and the outbox that writes into
// out/. It owns its bbolt buckets.
package batch
