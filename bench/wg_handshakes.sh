#!/usr/bin/env bash
# bench/wg_handshakes.sh — handshakes per second, Scope's engine against
# wireguard-go, same machine, same run, identical namespaces; prints figures
# and ratios, asserts nothing (docs/benchmarks.md, "Engine handshakes").
#
#   l: bench-handshake  192.0.2.100 + SOURCES addresses 198.18.0.1...
#        |  [hs]  (both daemons route 198.18.0.0/16 via 192.0.2.100)
#        +------ s: scoped wg     192.0.2.1:51820
#        +------ g: wireguard-go  192.0.2.2:51820
#
# Both daemons have the same PEERS peers (SCOPE_BENCH_HS_PEERS, default 1000),
# whose private keys the load generator holds. bench-handshake
# (bench/bench_handshake.c) runs one device of Scope's own WireGuard core per
# key, spread over SOURCES local addresses (SCOPE_BENCH_HS_SOURCES, default
# 512: under load each daemon allows 20 handshakes/s per source address, so
# that is not what is measured), keeps up to PEERS handshakes in flight, and
# counts the handshakes completed in SCOPE_BENCH_SECS (default 10) seconds
# after 2 s of warm-up, the cookie replies seen, and the daemon's CPU time
# (/proc/PID/stat) over the same window. Daemons run in turn, each idle while
# the other is measured; SCOPE_BENCH_ROUNDS (default 2) rounds alternate.
#
# Two modes per round. In the first every response goes through the
# generator's core, which completes the session and sends the confirming
# keepalive: the generator then spends as much per handshake as the daemon
# (three DHs and an ephemeral key on each side), so on two cores it, not the
# daemon, may set the pace. In the second only 1 response in
# SCOPE_BENCH_HS_VERIFY (default 16) goes through the core and the others
# count by index (bench_handshake.c, -v): the generator can then outrun the
# daemon, which shows its saturated rate and its behaviour under load
# (cookies). The daemon's CPU time per handshake is comparable in both.
#
# CPUs: with SCOPE_BENCH_PIN=1 (the default on a machine with 2 or more
# cores) the daemon runs on CPU 0 and the generator on CPU 1, so the two do
# not steal each other's core, and both daemons get one core: the figures
# compare the handshake path per core (Scope's loop is single-threaded).
# wireguard-go is started with GOMAXPROCS=$(nproc), its default on this
# machine: left to follow the affinity mask it would get GOMAXPROCS=1, and
# its Linux bind (0.0.20220316) reads in blocking recvmsg calls that hold the
# only P until the runtime's sysmon takes it back, which left its core half
# idle with a thousand handshakes waiting (perf trace: recvmsg 0.3 ms on
# average, the process at 50 % CPU). SCOPE_BENCH_PIN=0 lets the scheduler
# place everything (wireguard-go then spreads handshakes over every core,
# competing with the generator).
#
# Run as root: bash bench/wg_handshakes.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/netns/lib.sh"

REPO=$(cd "$TB_LIBDIR/../.." && pwd)
BUILD=$(realpath -m "${SCOPE_BUILD:-$REPO/build}") # absolute: links point at it
SCOPED=$BUILD/src/bin/scoped
GEN=$BUILD/bench/bench-handshake
SECS=${SCOPE_BENCH_SECS:-10}
PEERS=${SCOPE_BENCH_HS_PEERS:-1000}
SOURCES=${SCOPE_BENCH_HS_SOURCES:-512}
ROUNDS=${SCOPE_BENCH_ROUNDS:-2}
VERIFY=${SCOPE_BENCH_HS_VERIFY:-16}
PIN=${SCOPE_BENCH_PIN:-auto}
SOCKDIR=/var/run/wireguard

umask 077
tb_init
tb_require wg wireguard-go taskset
[[ -x $SCOPED ]] || tb_die "no $SCOPED: build first"
[[ -x $GEN ]] || tb_die "no $GEN: build first"
((PEERS >= 1 && PEERS <= 65536)) || tb_die "SCOPE_BENCH_HS_PEERS must be 1..65536"
((SOURCES >= 1 && SOURCES <= 4096)) || tb_die "SCOPE_BENCH_HS_SOURCES must be 1..4096"
((VERIFY >= 2)) || tb_die "SCOPE_BENCH_HS_VERIFY must be 2 or more"
if [[ $PIN == auto ]]; then
	PIN=0
	(($(nproc) >= 2)) && PIN=1
fi
DAEMON_CPU=() GEN_CPU=()
if ((PIN)); then
	DAEMON_CPU=(taskset -c 0)
	GEN_CPU=(taskset -c 1)
fi

declare -A PID IFN ADDR PUB
ADDR[s]=192.0.2.1
ADDR[g]=192.0.2.2
for h in s g; do
	IFN[$h]=${TB_PREFIX}$h
	tb_defer rm -f "$SOCKDIR/${IFN[$h]}.sock"
done

# The initiators' keys: private ones for the generator, public ones for the
# daemons, each peer with one /32 so the allowed-IPs table is not empty.
KEYS=$TB_DIR/initiators.key
PEERCONF=$TB_DIR/peers.conf
: >"$KEYS"
: >"$PEERCONF"
for ((i = 0; i < PEERS; i++)); do
	k=$(wg genkey)
	echo "$k" >>"$KEYS"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.200.%d.%d/32\n' "$(wg pubkey <<<"$k")" \
		$((i / 250)) $((i % 250 + 1)) >>"$PEERCONF"
done

tb_net hs
tb_host l
tb_attach l hs 192.0.2.100/24
# Source addresses 198.18.0.1 on, on the generator's link (ip -batch: one
# process for all of them).
for ((i = 1; i <= SOURCES; i++)); do
	echo "addr add 198.18.$((i / 256)).$((i % 256))/32 dev hs"
done >"$TB_DIR/addrs"
tb_exec l ip -batch "$TB_DIR/addrs"

start_daemon() { # HOST IMPL
	local h=$1 impl=$2 conf=$TB_DIR/$1.conf
	tb_host "$h"
	tb_attach "$h" hs "${ADDR[$h]}/24"
	tb_route "$h" 198.18.0.0/16 via 192.0.2.100
	if [[ $impl == scope ]]; then
		tb_bg "$h" "${DAEMON_CPU[@]}" "$SCOPED" wg --foreground "${IFN[$h]}"
	else
		tb_bg "$h" env WG_PROCESS_FOREGROUND=1 GOMAXPROCS="$(nproc)" "${DAEMON_CPU[@]}" \
			wireguard-go "${IFN[$h]}"
	fi
	PID[$h]=$TB_LAST_PID
	tb_wait_for 10 test -S "$SOCKDIR/${IFN[$h]}.sock" || tb_die "$impl on $h did not start"
	wg genkey >"$TB_DIR/$h.key"
	PUB[$h]=$(wg pubkey <"$TB_DIR/$h.key")
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n' "$(cat "$TB_DIR/$h.key")"
		cat "$PEERCONF"
	} >"$conf"
	tb_exec "$h" wg setconf "${IFN[$h]}" "$conf"
	tb_exec "$h" ip link set "${IFN[$h]}" mtu 1420 up
	[[ $(tb_exec "$h" wg show "${IFN[$h]}" peers | wc -l) == "$PEERS" ]] ||
		tb_die "$impl on $h does not have $PEERS peers"
}

start_daemon s scope
start_daemon g wggo

# Busy CPU of the whole machine over one second, in % of one CPU.
busy_pct() {
	local a b
	a=$(head -1 /proc/stat)
	sleep 1
	b=$(head -1 /proc/stat)
	awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		split(a, x); split(b, y)
		for (i = 2; i <= 9; i++) if (i != 5 && i != 6) t += y[i] - x[i]
		printf "%d", t * 100 / hz }'
}

# The machine may be shared (builds, other tests): wait up to
# SCOPE_BENCH_QUIET_WAIT seconds (default 60) for it to be idle (under 15 %
# of one CPU busy) before each run, and report what others took during it.
wait_quiet() {
	local i b
	for ((i = 0; i < ${SCOPE_BENCH_QUIET_WAIT:-60}; i++)); do
		b=$(busy_pct)
		((b < 15)) && return 0
	done
	tb_note "machine still busy ($b % of a CPU) before the run: figures are disturbed"
}

# One run of the generator against HOST, giving 1 response in VERIFY to the
# core; figures into R[HOST.VERIFY.ROUND.key].
declare -A R
measure() { # HOST VERIFY ROUND
	local h=$1 k v p=$1.$2.$3 out=$TB_DIR/gen.$1.$2.$3
	wait_quiet
	tb_exec l "${GEN_CPU[@]}" "$GEN" -e "${ADDR[$h]}:51820" -p "${PUB[$h]}" -k "$KEYS" \
		-s "198.18.0.1+$SOURCES" -t "$SECS" -v "$2" -P "${PID[$h]}" >"$out" ||
		tb_die "bench-handshake against $h failed: $(tr '\n' ' ' <"$out")" \
			"(if no handshake completed: under load each daemon drops what passes" \
			"20/s per source address, $((SOURCES * 20))/s here, and a dropped" \
			"initiation is retried after 5 s; raise SCOPE_BENCH_HS_SOURCES)"
	while IFS='=' read -r k v; do
		R[$p.$k]=$v
	done <"$out"
	R[$p.rss]=$(awk '/^VmRSS/ { print $2 }' "/proc/${PID[$h]}/status")
	R[$p.others]=$(awk -v m="${R[$p.machine_cpu_pct]:-0}" -v d="${R[$p.daemon_cpu_pct]:-0}" \
		-v g="${R[$p.generator_cpu_pct]:-0}" 'BEGIN { o = m - d - g; printf "%d", o < 0 ? 0 : o }')
}

MODES=(1 "$VERIFY")
for ((n = 1; n <= ROUNDS; n++)); do
	for m in "${MODES[@]}"; do
		measure s "$m" "$n"
		measure g "$m" "$n"
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() { # LABEL KEY [ratio]
	local n s g r=""
	for ((n = 1; n <= ROUNDS; n++)); do
		s=${R[s.$MODE.$n.$2]:-n/a} g=${R[g.$MODE.$n.$2]:-n/a}
		[[ -n ${3:-} ]] && r=$(ratio "$s" "$g")
		printf '%-40s %2d %12s %12s %8s\n' "$1" "$n" "$s" "$g" "$r"
	done
}
table() {
	printf '%-40s %2s %12s %12s %8s\n' figure rd scope wireguard-go ratio
	row "handshakes/s" handshakes_per_s ratio
	row "daemon CPU us per handshake" daemon_cpu_us_per_handshake ratio
	row "daemon CPU %" daemon_cpu_pct
	row "generator CPU %" generator_cpu_pct
	row "everything else CPU % (kernel, others)" others
	row "initiations sent" initiations
	row "cookie replies seen" cookies
	row "timeouts (resent after 5 s)" timeouts
	row "late answers (after a resend)" stale
	row "answers refused by the core" rejected
	row "latency p50 (ms)" latency_p50_ms
	row "latency p99 (ms)" latency_p99_ms
	row "daemon RSS after the run (KiB)" rss
}
pin="unpinned, wireguard-go GOMAXPROCS=$(nproc)"
((PIN)) && pin="daemon on CPU 0, generator on CPU 1, wireguard-go GOMAXPROCS=$(nproc)"
echo "# engine handshakes, $(nproc) cores ($pin), $PEERS peers, $SOURCES source addresses" \
	"(limit under load $((SOURCES * 20))/s), ${SECS}s per run"
echo "## every response completes the handshake in the generator's core"
MODE=1 table
echo "## 1 response in $VERIFY goes through the core (the generator can outrun the daemon)"
MODE=$VERIFY table
tb_cleanup
