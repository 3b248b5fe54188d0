#!/usr/bin/env bash
# Scope's demo: a whole Scope network on this one machine, in network
# namespaces. A registry, one master relay and three edges — one behind a
# full-cone NAT, one behind a symmetric NAT, one public — come up from
# nothing but a signed network definition and one certificate each. It
# waits until every edge and the master relay share a post-quantum
# preshared key (X-Wing key exchange, activated 3 s after confirmation here
# instead of the default 60 s), prints each node's `scopectl status`, pings
# every edge from every other over the overlay (through the master relay),
# and removes everything on exit (or Ctrl-C).
#
#   reg 203.0.113.10 (scope-registry)      m 203.0.113.1:51820 (master relay)
#   e1 10.1.0.2 behind nat1 (full cone)     e2 10.2.0.2 behind nat2 (symmetric)
#   e3 203.0.113.33 (public)                overlay 10.77.0.0/24, fd77::/64
#
# Needs root (namespaces, TUN). Binaries from build/ (tools/run.sh demo
# builds them first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=tests/netns/lib.sh
source tests/netns/lib.sh
# shellcheck source=tests/netns/lib_scope.sh
source tests/netns/lib_scope.sh

say() { printf '\n== %s\n' "$*"; }

tb_init
tb_require ping curl

say "Underlay: a public segment, two NATs, five hosts (network namespaces)"
sc_star_underlay

say "The admin, offline: a network definition and one certificate per node"
# PQ PSKs take effect 3 s after both sides confirmed them (default 60 s).
SC_NET_ARGS="--param kex-activation=3"
sc_star_network
"$SCOPECTL" net inspect "$SC_DIR/net/network.scope"
echo
"$SCOPECTL" cert inspect "$SC_DIR/e1.cert"

say "Registry, then the master relay, then three edges (scoped run CONFIG)"
sc_registry reg 203.0.113.10:8470 2>/dev/null
echo "--- e1's whole configuration:"
sed -n '/^\[/,$p' "$SC_DIR/e1.conf" | sed "s|$SC_DIR|\$DIR|g"
sc_start m m 2>/dev/null
sc_wait_registry m || tb_die "the master relay did not come up"
start=$(date +%s%N)
for n in e1 e2 e3; do
	sc_start "$n" "$n" 2>/dev/null
done
ms=$(sc_first_ping e1 10.77.0.12 "$start")
[[ -n $ms ]] || tb_die "e1 cannot reach e2"
echo "first ping e1 -> e2 (full-cone NAT -> symmetric NAT, via the master relay):" \
	"$ms ms after the last edge started"

# Every edge's tunnel to the master relay gets its first post-quantum PSK.
pq_ready() {
	local n
	for n in e1 e2 e3; do
		tb_exec "$n" "$SCOPECTL" status --json --interface "$TB_PREFIX$n" 2>/dev/null |
			grep -q '"psk_version": *[1-9]' || return 1
	done
}
if tb_wait_for 30 pq_ready; then
	echo "post-quantum PSK (version 1) active between every edge and the master relay"
else
	echo "warning: not every edge has a post-quantum PSK after 30 s" >&2
fi

for n in m e1 e2 e3; do
	say "scopectl status on $n"
	sc_status "$n" "$n"
done

say "Overlay pings between the edges"
declare -A OV=([e1]=10.77.0.11 [e2]=10.77.0.12 [e3]=10.77.0.13)
fail=0
for a in e1 e2 e3; do
	for b in e1 e2 e3; do
		[[ $a == "$b" ]] && continue
		if out=$(tb_exec "$a" ping -c 3 -i 0.2 -W 2 -q "${OV[$b]}" 2>&1); then
			printf '%s -> %s: %s\n' "$a" "$b" "$(grep -o 'rtt.*' <<<"$out")"
		else
			printf '%s -> %s: FAILED\n' "$a" "$b"
			fail=1
		fi
	done
done

say "Cleaning up (namespaces, processes, files)"
tb_cleanup
if ((fail)); then
	echo "demo: some pings failed" >&2
	exit 1
fi
echo "demo: done"
