// Package batch is the lifecycle of a merchant's files: intake (pick-up to
// .ack/.err), processing (.res), sandbox settlement, the ledger, daily
// reports, the schedule, the sandbox clock and the outbox that writes into
// out/. It owns its bbolt buckets (named "batch.*").
//
// The flow, and what makes each step exactly-once:
//
//   - Pickup (called by sftpd before the client's CLOSE or RENAME is
//     answered) hard-links the upload into DATA/originals and records the
//     batch RECEIVED in one transaction; an intake worker validates it with
//     package formats and decides ACKNOWLEDGED or REJECTED in one
//     transaction that also records the .ack or .err as owed.
//   - The outbox writes owed outputs from the store (temporary hidden name,
//     fsync, rename, fsync of the folder) and then marks them written; Start
//     writes again whatever is still owed.
//   - The process job applies acknowledged batches, oldest first, in chunks
//     whose effects, line results and checkpoint commit together; the .res is
//     owed by the last chunk. Settlement then takes the events due (collection,
//     sandbox return or refund request) day by day, deleting each event in the
//     transaction that books its ledger entries.
//   - The reports job (report.go) runs processing first, then produces the
//     daily statements and issue reports.
//
// All dates come from the service clock (Clock; in sandbox mode a
// SandboxClock that can only move forward) in the configured time zone, and
// all business-day arithmetic from calendar.go (TARGET2). Decisions where the
// specification is silent are in docs/DECISIONS.md under "Batch".
package batch
