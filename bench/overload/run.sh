#!/usr/bin/env bash
# Overload run (issue #5): the server under 3x its sustainable rate.
#
#   sudo bench/overload/run.sh          # root: it makes a cpu cgroup
#
# On a 2-core machine the load generator cannot offer 3x what the server
# does with both cores, so the server is pinned to core 0 and held to
# QUOTA percent of it with a cpu cgroup (cgroup v1 `cpu` or v2 `cpu.max`,
# period 4 ms: the kernel's smallest quota is 1 ms); sessionbench runs pinned to core 1. Then, all on one fresh
# server (-fsync everysec, scenario track, open loop unless said):
#
#   1. capacity: closed loop, 64 and CONNS connections -> C req/s answered,
#      the larger (a busier log writes bigger batches)
#   2. unloaded: C/10 req/s                          -> p99 of answers
#   3. overload: 3C req/s over CONNS connections      -> goodput (200/s),
#      p99 of the 200 answers, 503s, peak RSS (sampled every 0.2 s)
#   4. after: C/10 req/s for 1 s, started the moment the overload stops,
#      no warm-up                                    -> p99 of answers
#
# Latencies are from the actual send (sessionbench's service time): the
# open loop's own backlog on a saturated generator is not the server's.
# Options (environment): QUOTA=25 FSYNC=everysec CONNS=1024 DURATION=10s
# OUT=/tmp/overload. QUOTA=25 makes the server CPU-bound; FSYNC=always
# QUOTA=100 makes the log (fsync) the bottleneck instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

QUOTA=${QUOTA:-25}
FSYNC=${FSYNC:-everysec}
CONNS=${CONNS:-1024}
DURATION=${DURATION:-10s}
OUT=${OUT:-/tmp/overload}
PORT=${PORT:-8000}
SECRET=bench-secret
GO=${GO:-go}
mkdir -p "$OUT"

die() {
	echo "overload: $*" >&2
	exit 1
}
command -v jq >/dev/null || die "jq is not installed (apt-get install jq)"
if curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then
	die "port $PORT is in use"
fi

$GO build -o bin/sessionserver ./cmd/sessionserver
$GO build -o bin/sessionbench ./cmd/sessionbench

CG=
PID=
DATA=$(mktemp -d)
cleanup() {
	[[ -n $PID ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	[[ -n $CG ]] && rmdir "$CG" 2>/dev/null || true
	rm -rf "$DATA"
}
trap cleanup EXIT

# cgroup: v2 (cpu.max) or v1 (cpu.cfs_*).
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
	CG=/sys/fs/cgroup/sessionserver-overload
	mkdir -p "$CG" || die "cannot create $CG (run as root)"
	echo "$((QUOTA * 40)) 4000" >"$CG/cpu.max"
elif [[ -d /sys/fs/cgroup/cpu ]]; then
	CG=/sys/fs/cgroup/cpu/sessionserver-overload
	mkdir -p "$CG" || die "cannot create $CG (run as root)"
	echo 4000 >"$CG/cpu.cfs_period_us"
	echo "$((QUOTA * 40))" >"$CG/cpu.cfs_quota_us"
else
	die "no cpu cgroup found"
fi

env -u SESSION_DATA_DIR -u GOMAXPROCS taskset -c 0 bin/sessionserver -addr "127.0.0.1:$PORT" -data-dir "$DATA" \
	-jwt-secret "$SECRET" -fsync "$FSYNC" -log-level warn 2>"$OUT/server.log" &
PID=$!
echo "$PID" >"$CG/cgroup.procs"
for _ in $(seq 300); do
	curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/health" && break
	sleep 0.1 # readiness poll
done

bench() { # label, then sessionbench flags
	local label=$1
	shift
	taskset -c 1 bin/sessionbench -target "http://127.0.0.1:$PORT" -jwt-secret "$SECRET" -scenario track -quiet -json "$@" >"$OUT/$label.json"
}
field() { jq -r ".target.total.$2" "$OUT/$1.json"; }

bench capacity64 -c 64 -d "$DURATION" -warmup 1s
bench capacity -c "$CONNS" -d "$DURATION" -warmup 1s
C=$(jq -n "[$(field capacity64 ok_per_s), $(field capacity ok_per_s)] | max | floor")
bench unloaded -rate $((C / 10)) -c 64 -d "$DURATION" -warmup 1s

rss_max=0
bench overload -rate $((3 * C)) -c "$CONNS" -d "$DURATION" -warmup 1s &
load=$!
while kill -0 "$load" 2>/dev/null; do
	rss=$(awk '/VmRSS/{print $2}' "/proc/$PID/status")
	((rss > rss_max)) && rss_max=$rss
	sleep 0.2 # sampling interval
done
wait "$load"
bench after -rate $((C / 10)) -c 64 -d 1s -warmup 0s
rss_after=$(awk '/VmRSS/{print $2}' "/proc/$PID/status")
rejected=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^sessionserver_admission_rejections_total/{print $2}')

{
	echo "server: core 0 (GOMAXPROCS: its default, 1 on one core, 2 under -fsync always), cpu quota ${QUOTA}% (period 4 ms); sessionbench: core 1; scenario track, -fsync $FSYNC"
	echo "capacity: $C req/s (closed loop: $(field capacity64 ok_per_s) with 64 conns, $(field capacity ok_per_s) with $CONNS)"
	echo "unloaded ($((C / 10)) req/s): p50 $(field unloaded service_us.p50) us, p99 $(field unloaded service_us.p99) us"
	echo "overload (offered $((3 * C)) req/s over $CONNS conns): sent $(field overload requests_per_s) req/s," \
		"goodput $(field overload ok_per_s) 200/s = $(jq -n "$(field overload ok_per_s) / $C * 100 | floor")% of capacity," \
		"errors $(jq -c .target.total.errors "$OUT/overload.json"), p50 $(field overload service_us.p50) us," \
		"p99 $(field overload service_us.p99) us = $(jq -n "$(field overload service_us.p99) / $(field unloaded service_us.p99) * 10 | floor / 10")x unloaded"
	echo "memory: peak RSS $((rss_max / 1024)) MiB during the overload, $((rss_after / 1024)) MiB after; admission rejections $rejected"
	echo "first second after the overload ($((C / 10)) req/s): p50 $(field after service_us.p50) us, p99 $(field after service_us.p99) us," \
		"errors $(jq -c .target.total.errors "$OUT/after.json")"
} | tee "$OUT/summary.txt"
