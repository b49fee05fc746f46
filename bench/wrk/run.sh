#!/usr/bin/env bash
# Measures Session Server from the outside: wrk against the built binary,
# then the same wrk command against an independent no-op fasthttp server
# (bench/noopserver) that answers a body of the same size, so every figure
# is a ratio to what this machine can do at all, taken within one run.
#
#   bench/wrk/run.sh                       # or: make bench-wrk
#   RUNS=5 DURATION=30s FIGURES=track bench/wrk/run.sh
#
# Figures: track (POST /api/pages/track, server -fsync everysec) and start
# (POST /api/sessions/start with a user token, server -fsync always). Each
# run starts a fresh server on an empty data folder, waits for
# /api/health, loads it, stops it (SIGTERM) and removes the folder, then
# loads the no-op server the same way. Options (environment only):
#
#   RUNS=3  DURATION=10s  CONNS=64  THREADS=2  FIGURES="track start"
#   OUT=/tmp/wrk-results       raw wrk outputs, server logs, summary.txt
#   TARGET_PORT=8000  BASELINE_PORT=8001  READY_TIMEOUT=30 (seconds)
#
# SESSION_* variables are cleared so that only the flags below configure
# the server.
set -euo pipefail

cd "$(dirname "$0")/../.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
FIGURES=${FIGURES:-"track start"}
OUT=${OUT:-/tmp/wrk-results}
TARGET_PORT=${TARGET_PORT:-8000}
BASELINE_PORT=${BASELINE_PORT:-8001}
READY_TIMEOUT=${READY_TIMEOUT:-30}
SECRET=bench-secret
GO=${GO:-go}

for v in $(compgen -e); do
	if [[ $v == SESSION_* ]]; then unset "$v"; fi
done

die() {
	echo "run.sh: $*" >&2
	exit 1
}

for c in wrk curl "$GO"; do
	command -v "$c" >/dev/null || die "$c is not installed"
done

# The one process this script has running at a time (server or baseline)
# and the server's data folder.
PID=
DATA_DIR=

stop() {
	if [[ -n $PID ]]; then
		kill -TERM "$PID" 2>/dev/null || true
		local deadline=$((SECONDS + 60))
		while kill -0 "$PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		if kill -0 "$PID" 2>/dev/null; then
			echo "run.sh: pid $PID still running 60s after SIGTERM, killing it" >&2
			kill -KILL "$PID" 2>/dev/null || true
		fi
		local rc=0
		wait "$PID" 2>/dev/null || rc=$?
		((rc == 0)) || echo "run.sh: pid $PID exited with status $rc" >&2
		PID=
	fi
	if [[ -n $DATA_DIR ]]; then
		rm -rf "$DATA_DIR"
		DATA_DIR=
	fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_free fails if anything listens on the port: the readiness check
# below would otherwise be answered by someone else's server.
port_free() {
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		die "something already listens on 127.0.0.1:$1 (set TARGET_PORT/BASELINE_PORT)"
	fi
}

# wait_ready polls port $1 until it answers /api/health with 2xx (the no-op
# server answers every path), failing if our process exits or the deadline
# passes.
wait_ready() {
	local deadline=$((SECONDS + READY_TIMEOUT))
	until curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/api/health"; do
		kill -0 "$PID" 2>/dev/null || die "pid $PID (port $1) exited before it was ready; see $OUT"
		((SECONDS < deadline)) || die "127.0.0.1:$1 not ready after ${READY_TIMEOUT}s"
		sleep 0.05
	done
}

# start_server FSYNC LOG: a fresh server on an empty data folder.
start_server() {
	port_free "$TARGET_PORT"
	DATA_DIR=$(mktemp -d)
	bin/sessionserver -addr "127.0.0.1:$TARGET_PORT" -data-dir "$DATA_DIR" -jwt-secret "$SECRET" \
		-fsync "$1" -log-level warn >"$2" 2>&1 &
	PID=$!
	wait_ready "$TARGET_PORT"
}

# start_baseline LOG ARGS...: the no-op server with the given answer flags.
start_baseline() {
	local log=$1
	shift
	port_free "$BASELINE_PORT"
	bin/noopserver -addr "127.0.0.1:$BASELINE_PORT" "$@" >"$log" 2>&1 &
	PID=$!
	wait_ready "$BASELINE_PORT"
}

# post PATH BODY [CURL ARGS...]: the answer body of one request to the
# server; fails unless it is 200.
post() {
	local path=$1 body=$2 answer code
	shift 2
	answer=$(curl -sS --max-time 5 -w '\n%{http_code}' "$@" -H 'Content-Type: application/json' \
		-d "$body" "http://127.0.0.1:$TARGET_PORT$path")
	code=${answer##*$'\n'}
	answer=${answer%$'\n'*}
	[[ $code == 200 ]] || die "POST $path answered $code: $answer"
	printf '%s' "$answer"
}

# The request bodies the wrk scripts send.
TRACK_REQ='{"app":"shop","user":"ann","page":"/dashboard","timespent":12.5}'
START_REQ='{"app":"shop","user":"ann"}'

mkdir -p bin "$OUT"
echo "building bin/sessionserver and bin/noopserver"
"$GO" build -o bin/sessionserver ./cmd/sessionserver
"$GO" build -o bin/noopserver ./bench/noopserver

TOKEN=$(bin/sessionserver token -jwt-secret "$SECRET" -sub ann -app shop -ttl 24h)
export TOKEN

# The real answers, once, so that the baseline answers as many bytes: the
# track answer's own text (its timestamp is fixed there), and for start an
# answer of the same length (each start answers a new session id).
start_server everysec "$OUT/answers-server.log"
TRACK_ANSWER=$(post /api/pages/track "$TRACK_REQ")
START_ANSWER=$(post /api/sessions/start "$START_REQ" -H "Authorization: Bearer $TOKEN")
stop
START_SIZE=$(printf '%s' "$START_ANSWER" | wc -c)
printf '%s\n' "$TRACK_ANSWER" >"$OUT/answer-track.json"
printf '%s\n' "$START_ANSWER" >"$OUT/answer-start.json"
echo "track answer: $(printf '%s' "$TRACK_ANSWER" | wc -c) bytes: $TRACK_ANSWER"
echo "start answer: $START_SIZE bytes: $START_ANSWER"

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
	echo "go: $("$GO" version)"
	echo "wrk: $(wrk -v 2>&1 | head -n 1)"
	echo "cores: $(nproc)"
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "RUNS=$RUNS DURATION=$DURATION CONNS=$CONNS THREADS=$THREADS FIGURES=\"$FIGURES\""
} | tee "$OUT/env.txt"

# wrk_load FIGURE PORT FILE: one wrk run, its output kept in FILE.
wrk_load() {
	wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "bench/wrk/$1.lua" "http://127.0.0.1:$2" >"$3" 2>&1 ||
		die "wrk failed, see $3"
}

# parse FILE: "req/s latency-avg latency-max non2xx socket-errors" of one
# wrk output.
parse() {
	awk '
		/^Requests\/sec:/ { rps = $2 }
		$1 == "Latency" && !lat { avg = $2; max = $4; lat = 1 }
		/Non-2xx or 3xx responses:/ { non2xx = $NF }
		/Socket errors:/ { gsub(",", ""); sock = $4 + $6 + $8 + $10 }
		END {
			if (rps == "") exit 1
			printf "%s %s %s %d %d\n", rps, avg, max, non2xx, sock
		}' "$1" || die "no Requests/sec in $1"
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
line() { printf "%-6s %3s %12s %12s %6s %7s %7s %10s %10s %10s\n" "$@" | tee -a "$SUMMARY"; }
line figure run target_rps base_rps ratio non2xx sockerr target_avg target_max base_avg

for fig in $FIGURES; do
	case $fig in
	track) fsync=everysec base_answer=(-body "$TRACK_ANSWER") ;;
	start) fsync=always base_answer=(-size "$START_SIZE") ;;
	*) die "unknown figure $fig (want track or start)" ;;
	esac
	ratios=() trps=() brps=()
	for run in $(seq 1 "$RUNS"); do
		t="$OUT/$fig-$run-target.txt" b="$OUT/$fig-$run-baseline.txt"
		start_server "$fsync" "$OUT/$fig-$run-server.log"
		wrk_load "$fig" "$TARGET_PORT" "$t"
		stop
		start_baseline "$OUT/$fig-$run-noop.log" "${base_answer[@]}"
		wrk_load "$fig" "$BASELINE_PORT" "$b"
		stop
		read -r t_rps t_avg t_max t_non2xx t_sock < <(parse "$t")
		read -r b_rps b_avg _ b_non2xx b_sock < <(parse "$b")
		((b_non2xx + b_sock == 0)) || echo "run.sh: baseline had errors, see $b" >&2
		ratio=$(awk -v t="$t_rps" -v b="$b_rps" 'BEGIN { printf "%.2f", t / b }')
		line "$fig" "$run" "$t_rps" "$b_rps" "$ratio" "$t_non2xx" "$t_sock" "$t_avg" "$t_max" "$b_avg"
		ratios+=("$ratio") trps+=("$t_rps") brps+=("$b_rps")
	done
	echo "$fig: median ratio $(printf '%s\n' "${ratios[@]}" | median) over $RUNS runs" \
		"(target median $(printf '%s\n' "${trps[@]}" | median) req/s, baseline median $(printf '%s\n' "${brps[@]}" | median) req/s)" |
		tee -a "$SUMMARY"
done
echo "raw wrk outputs, server logs and this summary: $OUT"
