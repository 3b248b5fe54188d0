#!/usr/bin/env bash
# tests/netns/wg_relay.sh — in-engine relaying: A and B know only R; A
# reaches B through R, and the packets never cross R's TUN device.
#
#   A: scoped wg              R: scoped wg --relay         B: scoped wg
#   192.0.2.1                 192.0.2.2                    192.0.2.3
#   overlay 10.98.0.1         overlay 10.98.0.254          overlay 10.98.0.2
#   peer R: 10.98.0.0/24      peer A: 10.98.0.1/32         peer R: 10.98.0.0/24
#                             peer B: 10.98.0.2/32
#        |                         |                            |
#        +------------------------ [inet] ----------------------+
#
# A and B have no peer entry for each other and B's underlay address is not
# routed from A (nftables on A drops anything to 192.0.2.3), so the only way
# between them is through R's engine. R's kernel does not forward IP at all
# (net.ipv4.ip_forward=0), and R's TUN counters show the packets did not
# pass through it. Negative: without --relay, R delivers the packets to its
# TUN, where the kernel (forwarding off) drops them: A cannot reach B.
#
# Run as root: bash tests/netns/wg_relay.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$TB_LIBDIR/../.." && pwd)
BUILD=$(realpath -m "${SCOPE_BUILD:-$REPO/build}") # absolute: links point at it
SCOPED=$BUILD/src/bin/scoped
SOCKDIR=/var/run/wireguard

tb_init
tb_require wg ping nft
[[ -x $SCOPED ]] || tb_die "no $SCOPED: build first (meson setup build && ninja -C build)"

declare -A IF=([a]=${TB_PREFIX}a [r]=${TB_PREFIX}r [b]=${TB_PREFIX}b)
declare -A UNDER=([a]=192.0.2.1 [r]=192.0.2.2 [b]=192.0.2.3)
declare -A OVER=([a]=10.98.0.1 [r]=10.98.0.254 [b]=10.98.0.2)
declare -A KEY PUB
for h in a r b; do
	tb_defer rm -f "$SOCKDIR/${IF[$h]}.sock"
	KEY[$h]=$(wg genkey)
	PUB[$h]=$(wg pubkey <<<"${KEY[$h]}")
	printf '%s\n' "${KEY[$h]}" >"$TB_DIR/key$h"
done

tb_net inet
for h in a r b; do
	tb_host "$h"
	tb_attach "$h" inet "${UNDER[$h]}/24"
done
tb_exec r sysctl -qw net.ipv4.ip_forward=0
tb_exec a nft add table inet block
tb_exec a nft add chain inet block out '{ type filter hook output priority 0; }'
tb_exec a nft add rule inet block out ip daddr 192.0.2.3 drop

start_node() { # HOST [--relay]
	local h=$1
	shift
	tb_bg "$h" env LOG_LEVEL=verbose "$SCOPED" wg --foreground "$@" "${IF[$h]}" \
		2>>"$TB_DIR/$h.log"
	tb_wait_for 10 test -S "$SOCKDIR/${IF[$h]}.sock" || tb_die "scoped on $h did not start"
	tb_exec "$h" ip addr add "${OVER[$h]}/24" dev "${IF[$h]}"
	tb_exec "$h" wg set "${IF[$h]}" private-key "$TB_DIR/key$h" listen-port 51820
}

# R first: an edge's first initiation (sent at once, for the keepalive)
# must find R knowing the edge, or the next try comes only after
# REKEY_TIMEOUT.
configure() {
	tb_exec r wg set "${IF[r]}" peer "${PUB[a]}" allowed-ips 10.98.0.1/32 \
		peer "${PUB[b]}" allowed-ips 10.98.0.2/32
	tb_exec a wg set "${IF[a]}" peer "${PUB[r]}" endpoint 192.0.2.2:51820 \
		allowed-ips 10.98.0.0/24 persistent-keepalive 1
	tb_exec b wg set "${IF[b]}" peer "${PUB[r]}" endpoint 192.0.2.2:51820 \
		allowed-ips 10.98.0.0/24 persistent-keepalive 1
}

tun_packets() { # HOST -> "rx tx" packets of its TUN as the kernel counts them
	tb_exec "$1" cat "/sys/class/net/${IF[$1]}/statistics/rx_packets" \
		"/sys/class/net/${IF[$1]}/statistics/tx_packets" | paste -sd' '
}

start_node a
start_node b
start_node r --relay
RPID=$TB_LAST_PID
configure
# Both edges have handshaken with R (keepalive every second).
tb_wait_for 10 bash -c "ip netns exec $(tb_ns r) wg show ${IF[r]} latest-handshakes | \
	awk '\$2 == 0 { z = 1 } END { exit z }'" || tb_note "handshakes with R slow"

tb_check "A cannot reach B's underlay address (the only path is R)" \
	bash -c "! ip netns exec $(tb_ns a) ping -c 1 -W 1 192.0.2.3 >/dev/null 2>&1"

before=$(tun_packets r)
tb_check "A pings B through R (100 packets)" \
	tb_exec a ping -c 100 -i 0.01 -W 2 -q 10.98.0.2
after=$(tun_packets r)
read -r rx0 tx0 <<<"$before"
read -r rx1 tx1 <<<"$after"
tb_note "R's TUN packets during the pings: rx +$((rx1 - rx0)), tx +$((tx1 - tx0))"
tb_check "R's TUN saw fewer than 10 of the 200 packets (relayed in the engine)" \
	test $((rx1 - rx0 + tx1 - tx0)) -lt 10
tb_check "B answered from its overlay address (reply came back through R)" \
	bash -c "ip netns exec $(tb_ns a) ping -c 1 -W 2 10.98.0.2 | grep -q 'from 10.98.0.2'"
tb_check "B can also reach A through R" tb_exec b ping -c 3 -i 0.2 -W 2 10.98.0.1
tb_check "R itself is still reachable over the overlay" tb_exec a ping -c 2 -i 0.2 -W 2 10.98.0.254

# Bulk TCP A -> B through R: the edges send runs of equal datagrams (UDP
# GSO), R takes them coalesced (UDP GRO) and re-seals each for B in place.
XFER="python3 $TB_LIBDIR/tcpxfer.py"
tb_bg b $XFER recv 10.98.0.2 5001 "$TB_DIR/x.recv"
rpid=$TB_LAST_PID
tb_bg a bash -c "$XFER send 10.98.0.2 5001 $((50 << 20)) >$TB_DIR/x.send"
tb_wait_pid "$TB_LAST_PID" 120 || tb_note "sender ended with status $?"
tb_wait_pid "$rpid" 30 || tb_note "receiver ended with status $?"
tb_check "50 MB A -> B through R: byte count and SHA-256 match" \
	bash -c "[ -s $TB_DIR/x.send ] && cmp -s $TB_DIR/x.send $TB_DIR/x.recv"

# Negative: the same R without --relay cannot carry A's packets to B.
tb_kill "$RPID"
tb_wait_for 5 bash -c "[ ! -e $SOCKDIR/${IF[r]}.sock ]" || tb_note "R's socket lingered"
counters=$(grep 'msg="counters"' "$TB_DIR/r.log" || true)
tb_note "R's ${counters#*msg=\"counters\" }"
if [[ $(uname -r) =~ ^([0-9]+)\.([0-9]+) ]] && ((BASH_REMATCH[1] * 100 + BASH_REMATCH[2] >= 500)); then
	tb_check "R took coalesced datagrams (UDP GRO) and sent segmented runs (UDP GSO)" \
		bash -c "grep -Eq 'udp_rx_gro=[1-9].* udp_tx_gso=[1-9]' <<<'$counters'"
fi
start_node r
# Drop the edges' sessions with the old R so they handshake with the new one.
tb_exec a wg set "${IF[a]}" peer "${PUB[r]}" remove
tb_exec b wg set "${IF[b]}" peer "${PUB[r]}" remove
configure
tb_check "A reaches the new R" tb_exec a ping -c 2 -i 0.2 -W 2 10.98.0.254
tb_check "B reaches the new R" tb_exec b ping -c 2 -i 0.2 -W 2 10.98.0.254
tb_check "without --relay, A cannot reach B" \
	bash -c "! ip netns exec $(tb_ns a) ping -c 3 -i 0.3 -W 1 10.98.0.2 >/dev/null"

tb_done
