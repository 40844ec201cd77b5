package batch

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"
)

// metrics of the batch lifecycle. Batches and transactions by status are
// counted in the store, in the same transactions as the state changes, and
// read at scrape time: the gauges are exact across restarts and crashes.
type metrics struct {
	pickups     *prometheus.CounterVec
	ackLatency  prometheus.Histogram
	jobRuns     *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec
}

type storeCollector struct {
	s        *Service
	batches  *prometheus.Desc
	txStates *prometheus.Desc
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.batches
	ch <- c.txStates
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	_ = c.s.db.View(func(tx *bbolt.Tx) error {
		for k, v := range readCounts(tx, "batches") {
			ch <- prometheus.MustNewConstMetric(c.batches, prometheus.GaugeValue, float64(v), k)
		}
		for k, v := range readCounts(tx, "tx") {
			ch <- prometheus.MustNewConstMetric(c.txStates, prometheus.GaugeValue, float64(v), k)
		}
		return nil
	})
}

func newMetrics(s *Service, reg prometheus.Registerer) *metrics {
	m := &metrics{
		pickups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fileapi_pickups_total",
			Help: "Files picked up, by outcome (acknowledged, rejected, error)."}, []string{"outcome"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fileapi_ack_latency_seconds",
			Help:    "Time from pick-up to the .ack or .err being in out/.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30}}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fileapi_job_runs_total",
			Help: "Scheduled job runs, by job and outcome (ok, error)."}, []string{"job", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fileapi_job_duration_seconds",
			Help: "Duration of job runs.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"job"}),
	}
	if reg != nil {
		reg.MustRegister(m.pickups, m.ackLatency, m.jobRuns, m.jobDuration, &storeCollector{
			s:        s,
			batches:  prometheus.NewDesc("fileapi_batches", "Batches by status.", []string{"status"}, nil),
			txStates: prometheus.NewDesc("fileapi_transactions", "Transactions by state.", []string{"state"}, nil),
		})
	}
	return m
}

func (m *metrics) pickup(outcome string) { m.pickups.WithLabelValues(outcome).Inc() }

func (m *metrics) jobDone(job string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.jobRuns.WithLabelValues(job, outcome).Inc()
	m.jobDuration.WithLabelValues(job).Observe(d.Seconds())
}
