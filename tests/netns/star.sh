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

sc_star_underlay
tb_host e4
tb_attach e4 inet 203.0.113.34/24

# ---------------------------------------------------------------- network

sc_star_network e4
sc_registry reg 203.0.113.10:8470

# ---------------------------------------------------------------- star

# The master relay runs before the edges arrive, as in any real star.
sc_start m m
sc_wait_registry m || tb_notok "the master relay reports the registry reachable"
sc_status m m >"$TB_DIR/status-m.txt" 2>&1 || true
for n in e1 e2 e3; do
	sc_start "$n" "$n"
done
start=$(date +%s%N)
# First edge-to-edge ping: e1 (fullcone) to e2 (symmetric), through m.
ms=$(sc_first_ping e1 10.77.0.12 "$start")
if [[ -n $ms ]]; then
	tb_note "first edge-to-edge ping $ms ms after the last scoped start"
else
	tb_notok "a first ping e1 -> e2 within 20 s"
fi

# Every edge has its session with the master (a loaded machine may need the
# agent's handshake retries), then every pair.
for n in e1 e2 e3; do
	tb_wait_for 10 bash -c "ip netns exec $(tb_ns "$n") $SCOPECTL status --json \
		--interface $TB_PREFIX$n | grep -q '\"last_handshake_age\": *[0-9]'" ||
		tb_note "$n has no session with the master after 10 s"
done
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

# ---------------------------------------------------------------- leave

# Exit status 0 if the master relay configures no peer named $1.
MASTER_LACKS="ip netns exec $(tb_ns m) $SCOPECTL status --json --interface ${TB_PREFIX}m |
	python3 -c 'import json, sys; d = json.load(sys.stdin);
sys.exit(any(p[\"name\"] == sys.argv[1] for p in d[\"peers\"]))'"
tb_check "before leaving, the master relay configures e4" bash -c "! { $MASTER_LACKS e4; }"
sc_stop e4
tb_check "scoped leave" tb_exec e4 "$SCOPED" leave "$SC_DIR/e4.conf"
tb_check "the master relay dropped the peer that left" tb_wait_for 5 bash -c "$MASTER_LACKS e4"
tb_check "e1 no longer reaches the departed edge's address" \
	bash -c "! ip netns exec $(tb_ns e1) ping -c 2 -i 0.2 -W 1 10.77.0.14 >/dev/null"
tb_check "e1 still reaches e2" tb_exec e1 ping -c 2 -i 0.2 -W 2 10.77.0.12

# ---------------------------------------------------------------- registry down

# The registry goes away; e1 restarts and comes back from its cache.
tb_kill "$SC_REG_PID"
sc_stop e1
sc_start e1 e1
tb_check "registry down: a restarted edge reaches e2 from its cache" \
	tb_wait_for 10 tb_exec e1 ping -c 1 -W 1 10.77.0.12
tb_check "and e3" tb_exec e1 ping -c 2 -i 0.2 -W 2 10.77.0.13
sc_registry reg 203.0.113.10:8470
tb_check "registry back: the restarted edge reconnects to it" \
	tb_wait_for 20 bash -c "ip netns exec $(tb_ns e1) $SCOPECTL status --json \
		--interface ${TB_PREFIX}e1 | grep -q '\"reachable\": *true'"

# ---------------------------------------------------------------- kill switch

post_kill() { # FILE: POST the armored kill switch to the registry; prints the HTTP status
	local b64
	b64=$(sed '/-----/d' "$1" | tr -d '\n')
	tb_exec reg curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data "{\"kill\":\"$b64\"}" http://203.0.113.10:8470/v1/kill
}
all_up() {
	local n
	for n in m e1 e2 e3; do
		ip -n "$(tb_ns "$n")" link show "$TB_PREFIX$n" >/dev/null 2>&1 || return 1
	done
}
none_up() {
	local n
	for n in m e1 e2 e3; do
		ip -n "$(tb_ns "$n")" link show "$TB_PREFIX$n" >/dev/null 2>&1 && return 1
	done
	return 0
}

# A kill switch signed by another admin key: the registry refuses to store
# it, and nothing goes down.
tb__run "scopectl init (forger)" "$SCOPECTL" init "$SC_DIR/forger" --name demo \
	--ipv4 10.77.0.0/24 --ipv6 fd77::/64 --registry http://203.0.113.10:8470 \
	--master "m,$(cat "$SC_DIR/m.wgpub"),203.0.113.1:51820"
tb__run "forged kill" "$SCOPECTL" kill sign --dir "$SC_DIR/forger" --all --out "$SC_DIR/forged.kill"
code=$(post_kill "$SC_DIR/forged.kill")
tb_check "the registry refuses a forged kill switch (HTTP $code)" test "$code" = 403
sleep 2
tb_check "after a forged kill switch every node is still up" all_up
tb_check "and e1 still reaches e2" tb_exec e1 ping -c 2 -i 0.2 -W 2 10.77.0.12

tb__run "kill sign" "$SCOPECTL" kill sign --dir "$SC_DIR/net" --all --out "$SC_DIR/all.kill"
t0=$(date +%s%N)
code=$(post_kill "$SC_DIR/all.kill")
tb_check "the registry stores the admin's kill switch (HTTP $code)" test "$code" = 200
tb_check "every node's interface is down within 2 s" tb_wait_for 2 none_up
tb_note "all interfaces gone $((($(date +%s%N) - t0) / 1000000)) ms after the kill switch was posted"
sleep 2
tb_check "and stays down (daemons alive, interfaces gone)" \
	bash -c "$(declare -f tb_ns none_up); none_up && kill -0 ${SC_PID[m]} ${SC_PID[e1]} ${SC_PID[e2]} ${SC_PID[e3]}"

tb_done
