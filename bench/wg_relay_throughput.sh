#!/usr/bin/env bash
# bench/wg_relay_throughput.sh — relayed throughput: A reaches B only through
# R, with Scope's in-engine forwarding against wireguard-go relaying through
# the kernel's IP forwarding, same machine, same run; prints figures and
# ratios, asserts nothing (docs/benchmarks.md, "Relaying").
#
#   a1 --- r1 (scoped wg --relay) --- b1     overlay 10.96.1.0/24
#   a2 --- r2 (wireguard-go, ip_forward) --- b2   overlay 10.96.2.0/24
#   one segment per triple (192.0.2.0/24); a cannot reach b's underlay
#   address (nftables), so every packet crosses R: decrypted from A,
#   re-encrypted for B. The edges run the same implementation as their R.
#
# For each triple, alternating, SCOPE_BENCH_SECS (default 10) seconds each:
# iperf3 one TCP stream and UDP at an unlimited rate (receiver's figure).
# All six daemons and iperf3 share the machine's CPUs, so this measures the
# CPU cost of relaying more than link speed.
#
# Run as root: bash bench/wg_relay_throughput.sh   (SCOPE_BUILD: build
# directory; SCOPE_WG_ARGS: extra flags for every `scoped wg`)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/netns/lib.sh"
# shellcheck source=bench/lib_bench.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_bench.sh"

REPO=$(cd "$TB_LIBDIR/../.." && pwd)
BUILD=$(realpath -m "${SCOPE_BUILD:-$REPO/build}")
SCOPED=$BUILD/src/bin/scoped
SOCKDIR=/var/run/wireguard

umask 077
tb_init
tb_require wg wireguard-go iperf3 python3 nft
[[ -x $SCOPED ]] || tb_die "no $SCOPED: build first"

declare -A IFN KEY
for n in a1 r1 b1 a2 r2 b2; do
	IFN[$n]=${TB_PREFIX}$n
	tb_defer rm -f "$SOCKDIR/${IFN[$n]}.sock"
done

start_wg() { # IMPL HOST [ARGS...]
	local impl=$1 h=$2
	shift 2
	if [[ $impl == scope ]]; then
		# shellcheck disable=SC2086 # SCOPE_WG_ARGS is a list of flags
		tb_bg "$h" "$SCOPED" wg --foreground ${SCOPE_WG_ARGS:-} "$@" "${IFN[$h]}"
	else
		tb_bg "$h" env WG_PROCESS_FOREGROUND=1 wireguard-go "${IFN[$h]}"
	fi
	tb_wait_for 10 test -S "$SOCKDIR/${IFN[$h]}.sock" || tb_die "$impl on $h did not start"
	wg genkey >"$TB_DIR/$h.key"
	KEY[$h]=$(wg pubkey <"$TB_DIR/$h.key")
	tb_exec "$h" wg set "${IFN[$h]}" private-key "$TB_DIR/$h.key" listen-port 51820
}

setup_triple() { # IMPL NET A R B OVERLAY_NET
	local impl=$1 net=$2 a=$3 r=$4 b=$5 o=$6
	tb_net "$net"
	tb_host "$a"
	tb_host "$r"
	tb_host "$b"
	tb_attach "$a" "$net" 192.0.2.1/24
	tb_attach "$r" "$net" 192.0.2.2/24
	tb_attach "$b" "$net" 192.0.2.3/24
	tb_exec "$a" nft add table inet block
	tb_exec "$a" nft add chain inet block out '{ type filter hook output priority 0; }'
	tb_exec "$a" nft add rule inet block out ip daddr 192.0.2.3 drop
	start_wg "$impl" "$a"
	if [[ $impl == scope ]]; then
		start_wg "$impl" "$r" --relay
	else
		start_wg "$impl" "$r"
		tb_exec "$r" sysctl -qw net.ipv4.ip_forward=1
	fi
	start_wg "$impl" "$b"
	tb_exec "$r" wg set "${IFN[$r]}" peer "${KEY[$a]}" allowed-ips "$o.1/32" \
		peer "${KEY[$b]}" allowed-ips "$o.3/32"
	tb_exec "$a" wg set "${IFN[$a]}" peer "${KEY[$r]}" endpoint 192.0.2.2:51820 \
		allowed-ips "$o.0/24" persistent-keepalive 25
	tb_exec "$b" wg set "${IFN[$b]}" peer "${KEY[$r]}" endpoint 192.0.2.2:51820 \
		allowed-ips "$o.0/24" persistent-keepalive 25
	tb_exec "$a" ip addr add "$o.1/24" dev "${IFN[$a]}"
	tb_exec "$r" ip addr add "$o.2/24" dev "${IFN[$r]}"
	tb_exec "$b" ip addr add "$o.3/24" dev "${IFN[$b]}"
	for h in "$a" "$r" "$b"; do
		tb_exec "$h" ip link set "${IFN[$h]}" mtu 1420 up
	done
	tb_wait_for 15 tb_exec "$a" ping -c 1 -W 1 "$o.3" >/dev/null ||
		tb_die "$impl: a does not reach b through r"
}

setup_triple scope net1 a1 r1 b1 10.96.1
setup_triple wggo net2 a2 r2 b2 10.96.2

bench_compare "relayed throughput A -> R -> B" "a1 b1 10.96.1.3" "a2 b2 10.96.2.3" tcp1 udp
tb_cleanup
