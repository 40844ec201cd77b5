package batch

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// metricValue returns the value of the series name{label=value}.
func metricValue(t *testing.T, e *testEnv, name, label, value string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabel(m, label, value) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	if name == "" {
		return true
	}
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, "2026-11-27 10:00")
	e.mustAck("a.csv", payments(pay{ref: "A1", amount: "1.00"}, pay{ref: "A2", amount: "2.00", name: "ISSUE-SEPA-REJ-AC01 X"}))
	if ok, _ := e.upload("b.csv", "0;PAYMENTS;nope;X;\n"); ok {
		t.Fatal("b.csv acknowledged")
	}
	e.run("process")
	e.setClock("2026-12-01 10:00")
	tests := []struct {
		name, label, value string
		want               float64
	}{
		{"fileapi_pickups_total", "outcome", "acknowledged", 1},
		{"fileapi_pickups_total", "outcome", "rejected", 1},
		{"fileapi_ack_latency_seconds", "", "", 2},
		{"fileapi_batches", "status", StatusProcessed, 1},
		{"fileapi_batches", "status", StatusRejected, 1},
		{"fileapi_batches", "status", StatusReceived, 0},
		{"fileapi_transactions", "state", TxExecuted, 1},
		{"fileapi_transactions", "state", TxRejected, 1},
		{"fileapi_transactions", "state", TxPending, 0},
	}
	for _, tt := range tests {
		if got := metricValue(t, e, tt.name, tt.label, tt.value); got != tt.want {
			t.Errorf("%s{%s=%q} = %v, want %v", tt.name, tt.label, tt.value, got, tt.want)
		}
	}
	if got := metricValue(t, e, "fileapi_job_runs_total", "outcome", "ok"); got < 2 {
		t.Errorf("job runs = %v", got)
	}
}
