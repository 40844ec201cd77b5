#!/bin/sh
# SFTP benchmark: fileapi against a throwaway OpenSSH sshd on the same
# machine, same clients, alternating runs, medians (docs/BENCHMARKS.md,
# "SFTP vs OpenSSH"). Run from the repository root: `make bench`.
#
#   BENCH_QUICK=1     64 MiB files, 5 s connection tests, 2 runs (minutes)
#   BENCH_SIZE_MIB    bulk file size (default 1024)
#   BENCH_RUNS        runs of every measurement (default 3)
#   BENCH_CONN        length of a connections/s measurement (default 30s)
#   BENCH_CIPHERS     comma-separated (default aes128-gcm, chacha20-poly1305)
#   BENCH_SESSIONS    sessions of the .ack test (default 200, 20 merchants)
#   BENCH_PROFILE     CPU profile length per workload, e.g. 20s (default 0: none)
#   BENCH_SKIP        parts to skip: xfer,cli,conn,acks
#   BENCH_DIR         work directory (default: a temporary one, removed)
#   BENCH_OUT         results.json and profiles (default /tmp/fileapi-bench-DATE)
#
# Needs /usr/sbin/sshd (openssh-server), sftp and ssh-keygen
# (openssh-client), and free disk for the files: 3 × size in BENCH_DIR.
set -eu
cd "$(dirname "$0")/.."

size=${BENCH_SIZE_MIB:-1024}
runs=${BENCH_RUNS:-3}
conn=${BENCH_CONN:-30s}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	size=${BENCH_SIZE_MIB:-64}
	runs=${BENCH_RUNS:-2}
	conn=${BENCH_CONN:-5s}
fi
out=${BENCH_OUT:-/tmp/fileapi-bench-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"

for tool in /usr/sbin/sshd sftp ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install openssh-server openssh-client)" >&2; exit 1; }
done
tmp=${BENCH_DIR:-${TMPDIR:-/tmp}}
need=$((size * 3 + 256))
avail=$(df -Pm "$tmp" | awk 'NR==2 {print $4}')
if [ "$avail" -lt "$need" ]; then
	echo "bench: $tmp has $avail MiB free, the benchmark needs about $need MiB" >&2
	exit 1
fi

go build -o bin/fileapi ./cmd/fileapi
go build -o bin/sftpbench ./bench/cmd/sftpbench

echo "bench: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); results in $out" >&2
set -- -fileapi bin/fileapi -out "$out" -size-mib "$size" -runs "$runs" -conn-duration "$conn" \
	-sessions "${BENCH_SESSIONS:-200}" -profile "${BENCH_PROFILE:-0}" -skip "${BENCH_SKIP:-}"
[ -n "${BENCH_CIPHERS:-}" ] && set -- "$@" -ciphers "$BENCH_CIPHERS"
[ -n "${BENCH_DIR:-}" ] && set -- "$@" -dir "$BENCH_DIR"
bin/sftpbench "$@" | tee "$out/summary.md"
