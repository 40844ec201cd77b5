package sftpd

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are always created so the code never checks for nil; they are
// only exposed when Config.Registerer is set.
type metrics struct {
	connections      prometheus.Gauge
	connectionsTotal prometheus.Counter
	authFailures     prometheus.Counter
	bans             prometheus.Counter
	uploads          *prometheus.CounterVec
	uploadBytes      prometheus.Counter
	downloadBytes    prometheus.Counter
}

// Upload outcomes, the values of fileapi_uploads_total's outcome label.
const (
	outcomeComplete = "complete"
	outcomeAborted  = "aborted"
	outcomeRefused  = "refused"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fileapi_sftp_connections", Help: "SSH connections open now.",
		}),
		connectionsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fileapi_sftp_connections_total", Help: "SSH connections accepted.",
		}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fileapi_auth_failures_total", Help: "SSH connections that failed to authenticate.",
		}),
		bans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fileapi_bans_total", Help: "Source addresses banned after repeated authentication failures.",
		}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fileapi_uploads_total", Help: "Uploads by outcome (complete, aborted by a dropped connection, refused).",
		}, []string{"outcome"}),
		uploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fileapi_upload_bytes_total", Help: "Bytes of completed uploads.",
		}),
		downloadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fileapi_download_bytes_total", Help: "Bytes sent to merchants from out/.",
		}),
	}
	for _, o := range []string{outcomeComplete, outcomeAborted, outcomeRefused} {
		m.uploads.WithLabelValues(o) // export zeros so rates work from the start
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.connectionsTotal, m.authFailures, m.bans, m.uploads, m.uploadBytes, m.downloadBytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("sftpd: metrics: %w", err)
		}
	}
	return m, nil
}
