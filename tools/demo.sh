#!/usr/bin/env bash
# Scope's demo: a whole Scope network on this one machine, in network
# namespaces. A registry, one master relay and three edges — one behind a
# full-cone NAT, one behind a symmetric NAT, one public — come up from
# nothing but a signed network definition and one certificate each. It
# prints each node's `scopectl status`, pings every edge from every other
# over the overlay (through the master relay), and removes everything on
# exit (or Ctrl-C).
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

say "The admin, offline: a network definition and one certificate per node"
sc_keys m
sc_network demo 10.77.0.0/24 fd77::/64 http://203.0.113.10:8470 m 203.0.113.1:51820
sc_node m master 10.77.0.1 fd77::1
sc_node e1 edge 10.77.0.11 fd77::11
sc_node e2 edge 10.77.0.12 fd77::12
sc_node e3 edge 10.77.0.13 fd77::13
"$SCOPECTL" net inspect "$SC_DIR/net/network.scope"
echo
"$SCOPECTL" cert inspect "$SC_DIR/e1.cert"

say "Registry, then the master relay, then three edges (scoped run CONFIG)"
sc_registry reg 203.0.113.10:8470 2>/dev/null
echo "--- e1's whole configuration:"
sed -n '/^\[/,$p' "$SC_DIR/e1.conf" | sed "s|$SC_DIR|\$DIR|g"
sc_start m m 2>/dev/null
tb_wait_for 10 bash -c "ip netns exec $(tb_ns m) $SCOPECTL status --json \
	--interface ${TB_PREFIX}m 2>/dev/null | grep -q '\"reachable\": *true'" ||
	tb_die "the master relay did not come up"
start=$(date +%s%N)
for n in e1 e2 e3; do
	sc_start "$n" "$n" 2>/dev/null
done
tb_wait_for 10 bash -c "ip -n $(tb_ns e1) -4 addr show dev ${TB_PREFIX}e1 2>/dev/null | grep -q 10.77.0.11" ||
	tb_die "e1 did not come up"
first=$(tb_exec e1 ping -D -n -i 0.02 -c 1 -w 20 10.77.0.12 2>/dev/null |
	awk -F'[][]' '/bytes from/ { print $2; exit }' || true)
[[ -n $first ]] || tb_die "e1 cannot reach e2"
echo "first ping e1 -> e2 (full-cone NAT -> symmetric NAT, via the master relay):" \
	"$(awk -v f="$first" -v s="$start" 'BEGIN { printf "%.0f", (f - s / 1e9) * 1000 }') ms" \
	"after the last edge started"

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
