#!/usr/bin/env bash
# bench/wg_throughput.sh — Scope's engine against wireguard-go, same machine,
# same run, identical namespace pairs; prints figures and ratios, asserts
# nothing (docs/benchmarks.md).
#
#   s1: scoped wg  10.97.1.1 ---- [nets] ---- s2: scoped wg  10.97.1.2
#   g1: wireguard-go 10.97.2.1 -- [netg] ---- g2: wireguard-go 10.97.2.2
#   underlay 192.0.2.0/24 on each segment (separate bridges)
#
# For each pair, alternating, SCOPE_BENCH_SECS (default 10) seconds each:
# iperf3 one TCP stream, four TCP streams, UDP at an unlimited rate (the
# receiver's figure counts). Then each daemon's resident memory with 1 and
# with 1001 configured peers (each with one /32 allowed IP and an endpoint).
#
# Run as root: bash bench/wg_throughput.sh   (SCOPE_BUILD: build directory;
# SCOPE_WG_ARGS: extra flags for `scoped wg`, e.g. "--workers 1")
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/netns/lib.sh"
# shellcheck source=bench/lib_bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_bench.sh"

REPO=$(cd "$TB_LIBDIR/../.." && pwd)
BUILD=$(realpath -m "${SCOPE_BUILD:-$REPO/build}") # absolute: links point at it
SCOPED=$BUILD/src/bin/scoped
SOCKDIR=/var/run/wireguard

umask 077
tb_init
tb_require wg wireguard-go iperf3 python3
[[ -x $SCOPED ]] || tb_die "no $SCOPED: build first"

declare -A PID IFN
for n in s1 s2 g1 g2; do
	IFN[$n]=${TB_PREFIX}$n
	tb_defer rm -f "$SOCKDIR/${IFN[$n]}.sock"
done

setup_pair() { # IMPL NET A B OVERLAY_NET
	local impl=$1 net=$2 a=$3 b=$4 o=$5 h i=0
	tb_net "$net"
	for h in "$a" "$b"; do
		i=$((i + 1))
		tb_host "$h"
		tb_attach "$h" "$net" "192.0.2.$i/24"
		if [[ $impl == scope ]]; then
			tb_bg "$h" "$SCOPED" wg --foreground ${SCOPE_WG_ARGS:-} "${IFN[$h]}"
		else
			tb_bg "$h" env WG_PROCESS_FOREGROUND=1 wireguard-go "${IFN[$h]}"
		fi
		PID[$h]=$TB_LAST_PID
		tb_wait_for 10 test -S "$SOCKDIR/${IFN[$h]}.sock" || tb_die "$impl on $h did not start"
		wg genkey >"$TB_DIR/$h.key"
		tb_exec "$h" wg set "${IFN[$h]}" private-key "$TB_DIR/$h.key" listen-port 51820
		tb_exec "$h" ip addr add "$o.$i/24" dev "${IFN[$h]}"
		tb_exec "$h" ip link set "${IFN[$h]}" mtu 1420 up
	done
	tb_exec "$a" wg set "${IFN[$a]}" peer "$(wg pubkey <"$TB_DIR/$b.key")" \
		endpoint 192.0.2.2:51820 allowed-ips "$o.2/32"
	tb_exec "$b" wg set "${IFN[$b]}" peer "$(wg pubkey <"$TB_DIR/$a.key")" \
		endpoint 192.0.2.1:51820 allowed-ips "$o.1/32"
	tb_exec "$a" ping -c 2 -W 2 "$o.2" >/dev/null || tb_die "$impl pair does not ping"
}

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

add_peers() { # HOST N: add N peers with one /32 each and an endpoint
	local h=$1 n=$2 i f
	f=$TB_DIR/peers.$h
	: >"$f"
	for ((i = 0; i < n; i++)); do
		printf 'peer %s allowed-ips 10.200.%d.%d/32 endpoint 198.51.100.%d:%d ' \
			"$(wg genkey | wg pubkey)" $((i / 250)) $((i % 250 + 1)) $((i % 250 + 1)) \
			$((10000 + i)) >>"$f"
	done
	# shellcheck disable=SC2046 # one argument per word, on purpose
	tb_exec "$h" wg set "${IFN[$h]}" $(cat "$f")
}

setup_pair scope nets s1 s2 10.97.1
setup_pair wggo netg g1 g2 10.97.2

bench_compare "engine throughput" "s1 s2 10.97.1.2" "g1 g2 10.97.2.2" tcp1 tcp4 udp

rs1=$(rss_kib "${PID[s1]}")
rg1=$(rss_kib "${PID[g1]}")
add_peers s1 1000
add_peers g1 1000
sleep 1
rs2=$(rss_kib "${PID[s1]}")
rg2=$(rss_kib "${PID[g1]}")

echo "# resident memory (KiB)"
printf '%-28s %10s %12s\n' "RSS, 1 peer" "$rs1" "$rg1"
printf '%-28s %10s %12s\n' "RSS, 1001 peers" "$rs2" "$rg2"
printf '%-28s %10s %12s\n' "per added peer (bytes)" "$(((rs2 - rs1) * 1024 / 1000))" \
	"$(((rg2 - rg1) * 1024 / 1000))"
tb_cleanup
