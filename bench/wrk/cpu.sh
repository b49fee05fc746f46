#!/usr/bin/env bash
# Server CPU per request: the CPU time (user + system) a running process
# spends during one wrk run, divided by the requests wrk completed.
#
#   bench/wrk/cpu.sh PID URL SCRIPT [DURATION]
#   bench/wrk/cpu.sh "$(pgrep -f 'sessionserver -addr')" http://127.0.0.1:8000/api/pages/track bench/wrk/track.lua 5s
set -euo pipefail
pid=$1 url=$2 lua=$3 d=${4:-5s}
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
out=$(wrk -t2 -c64 -d"$d" -s "$lua" "$url")
t1=$(ticks)
reqs=$(awk '/requests in/{print $1}' <<<"$out")
rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
non=$(awk '/Non-2xx/{print $5}' <<<"$out")
awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" -v n="$reqs" -v rps="$rps" -v non="${non:-0}" \
	'BEGIN { printf "req/s %s, non-2xx %s, server CPU %.1f us per request\n", rps, non, (t1 - t0) * 1e6 / hz / n }'
