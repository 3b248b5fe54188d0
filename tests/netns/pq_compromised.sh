#!/usr/bin/env bash
# tests/netns/pq_compromised.sh — a compromised registry and the PQ key
# exchange (issue 7). m and e1 as in pq_managed.sh, but the registry they
# know is evil_registry.py (203.0.113.66), which forwards to the real one
# and tampers with the KEX mailbox; in-tunnel KEX messages are dropped by
# nftables in both namespaces, so the mailbox is the only way.
#
# Phases (each PQ_PHASE seconds, default 25), under a continuous ping:
#   corrupt  every record served has one bit flipped: no version agreed,
#            refusals logged, the classical tunnel keeps working;
#   none     the proxy stops lying: the rotation starts, equal keys;
#   swap     each node gets only messages meant for others: refused,
#            no version advances, the last PSK keeps working;
#   replay   every second message to each node is replaced by one relayed
#            before (any sender, recipient, version): old ones refused, the
#            rotation continues on the other half, keys stay equal.
# At no point do the two sides hold different keys under one version.
#
# Run as root: bash tests/netns/pq_compromised.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/netns/lib_scope.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_scope.sh"
# shellcheck source=tests/netns/lib_pq.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_pq.sh"

tb_init
tb_require ping jq nft
PHASE=${PQ_PHASE:-25}
if [[ -n ${KEEP_LOGS:-} ]]; then
	mkdir -p "$KEEP_LOGS"
	tb_defer bash -c 'cp "$1"/*.log "$1"/*.txt "$2"/ 2>/dev/null || true' _ "$TB_DIR" "$KEEP_LOGS"
fi
EVIL=$TB_LIBDIR/evil_registry.py
KEX_PORT=51899

tb_net inet
for h in reg m e1 evil; do
	tb_host "$h"
done
tb_attach reg inet 203.0.113.10/24
tb_attach m inet 203.0.113.1/24
tb_attach e1 inet 203.0.113.11/24
tb_attach evil inet 203.0.113.66/24

sc_keys m
sc_network demo 10.77.0.0/24 fd77::/64 http://203.0.113.66:8470 m 203.0.113.1:51820
sc_node m master 10.77.0.1 fd77::1
sc_node e1 edge 10.77.0.11 fd77::11
for n in m e1; do
	sc_scope_keys "$n" "TestOnlyPskPeriod = 3" "TestOnlyPskActivation = 1" \
		"TestOnlyPskRetry = 1"
	# In-tunnel KEX blocked: only the (evil) mailbox carries the messages.
	tb_exec "$n" nft -f - <<NFT
table inet pqtest {
	chain out {
		type filter hook output priority 0; policy accept;
		udp dport $KEX_PORT drop
	}
}
NFT
done

tb_bg reg "$SCOPE_REGISTRY" --foreground --network "$SC_DIR/net/network.scope" \
	--listen 203.0.113.10:8470 --db "$SC_DIR/registry.db" --stun off \
	--trusted-proxy 203.0.113.66/32
tb_wait_for 10 tb_exec reg curl -fsS -o /dev/null http://203.0.113.10:8470/healthz ||
	tb_die "scope-registry did not start"
echo '{"gen": 0, "kex": "corrupt"}' >"$TB_DIR/ctl.json"
tb_bg evil python3 "$EVIL" --listen 203.0.113.66:8470 --upstream 203.0.113.10:8470 \
	--ctl "$TB_DIR/ctl.json" >"$TB_DIR/evil.log" 2>&1
tb_wait_for 10 grep -qx ready "$TB_DIR/evil.log" ||
	tb_die "evil_registry.py did not start: $(cat "$TB_DIR/evil.log")"
mode() {
	jq -n --arg k "$1" '{gen: 0, kex: $k}' >"$TB_DIR/ctl.json.tmp"
	mv -f "$TB_DIR/ctl.json.tmp" "$TB_DIR/ctl.json"
}

sc_start_logged m m
sc_wait_registry m || tb_notok "the master relay reaches the registry through the proxy"
sc_start_logged e1 e1
tb_check "e1 reaches m over the overlay (classical WireGuard)" \
	tb_wait_for 20 tb_exec e1 ping -c 1 -W 1 10.77.0.1
tb_bg e1 bash -c "ping -n -i 0.2 -c $((PHASE * 5 * 4 + 100)) -W 2 10.77.0.1 \
	>'$TB_DIR/ping.txt' 2>&1"
ping_pid=$TB_LAST_PID

# Every version both sides hold has the same key on both; prints the count.
keys_agree() {
	local v ka kb n=0
	for v in $(pq_disk_versions e1 m); do
		ka=$(pq_disk_key e1 m "$v")
		kb=$(pq_disk_key m e1 "$v")
		[[ -z $kb ]] && continue
		[[ $ka == "$kb" ]] || return 1
		n=$((n + 1))
	done
	echo "$n"
}
mismatch=0
watch_phase() {
	local end=$((SECONDS + PHASE))
	while ((SECONDS < end)); do
		keys_agree >/dev/null || mismatch=$((mismatch + 1))
		sleep 1
	done
}

# ---- corrupt
watch_phase
tb_check "corrupted KEX messages: the proxy served them" grep -q 'kex mode=corrupt' "$TB_DIR/evil.log"
tb_check "corrupted KEX messages: no PQ version agreed on e1" test "$(pq_version e1 m)" = 0
tb_check "corrupted KEX messages: no PQ version agreed on m" test "$(pq_version m e1)" = 0
tb_check "corrupted KEX messages are refused and logged" \
	grep -qE 'kex_refused|event=kex_.*refused' "$TB_DIR/e1.log" "$TB_DIR/m.log"

# ---- none
mode none
agreed() { (($(pq_version e1 m) > 0 && $(pq_version m e1) > 0)); }
tb_check "honest mailbox: a PQ version is agreed within $((PHASE + 20)) s" \
	tb_wait_for $((PHASE + 20)) agreed
watch_phase
v_none_e1=$(pq_version e1 m)
tb_note "after the honest phase: e1 at version $v_none_e1, m at $(pq_version m e1)"

# ---- swap
mode swap
sleep 5 # what was already in flight may still land
v_swap0=$(pq_version e1 m)
watch_phase
v_swap1=$(pq_version e1 m)
tb_check "swapped KEX messages: the proxy served them" grep -q 'kex mode=swap' "$TB_DIR/evil.log"
tb_check "swapped KEX messages: the version does not advance ($v_swap0 -> $v_swap1)" \
	test "$v_swap1" -le "$((v_swap0 + 1))"

# ---- replay
mode replay
v_rep0=$(pq_version e1 m)
watch_phase
v_rep1=$(pq_version e1 m)
tb_check "replayed KEX messages: the proxy served them" grep -q 'kex mode=replay' "$TB_DIR/evil.log"
tb_check "replayed KEX messages: the rotation continues ($v_rep0 -> $v_rep1)" \
	test "$v_rep1" -gt "$v_rep0"
mode none

tb_check "the two sides never held different keys under one version" test "$mismatch" = 0
n=$(keys_agree || echo 0)
tb_check "equal keys at the end ($n versions compared)" test "$n" -ge 1
tb_wait_pid "$ping_pid" 60 >/dev/null || true
read -r sent got < <(pq_loss "$TB_DIR/ping.txt")
tb_note "pings: ${sent:-?} sent, ${got:-?} received"
tb_check "the tunnel kept working through every attack (no ping lost)" \
	test "${got:-0}" = "${sent:-x}"

tb_done
