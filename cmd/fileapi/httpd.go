package main

import (
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.etcd.io/bbolt"
)

// newRegistry is the service's own Prometheus registry (not the global
// one, so that tests running several servers do not collide): Go runtime
// and process collectors, and whatever sftpd and batch register.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fileapi_build_info", Help: "Build information; the value is always 1.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	return reg
}

// healthHandler answers 200 when the store is open and the SFTP listener
// accepts connections, 503 otherwise, with a one-word reason either way.
func healthHandler(db *bbolt.DB, sftpReady func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := db.View(func(*bbolt.Tx) error { return nil }); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("store unavailable\n"))
			return
		}
		if !sftpReady() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("sftp listener down\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
}

func newHTTPServer(reg *prometheus.Registry, health http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	// FILEAPI_PPROF=1 adds Go's profiler endpoints, for the SFTP benchmark
	// (bench/run.sh) and for support diagnosing a slow server. Off by
	// default: profiles reveal code paths and cost CPU while they run.
	if os.Getenv("FILEAPI_PPROF") == "1" {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}
