#!/usr/bin/env bash
# tests/netns/pq_pskonly.sh — PSK-only mode (issue 7, docs/pskonly.md): scoped
# rotates the post-quantum preshared keys of two Debian wireguard-go
# interfaces it does not manage, configured by wg(8), and changes nothing else.
#
#   a: wireguard-go (IF_A) + scoped run alpha.conf    b: wireguard-go (IF_B) + scoped run bravo.conf
#      192.0.2.10                                        192.0.2.20
#      overlay 10.66.0.1/24 (alpha's certificate)        overlay 10.66.0.2/24 (bravo's certificate)
#        |                                                  |
#        +--------------------- [inet] ---------------------+
#
# Backend = uapi, Registry = off (KEX messages only in-tunnel, to port 51899
# of the peer's overlay address), TestOnlyPskPeriod = 8 s, activation 2 s.
#
# Timeline (ping -i 0.2 from a to b for PING_S seconds, started first):
#   t=0      first handshake with the admin's classical PSK
#   t=1..ROT scoped rotates every 8 s on both sides; wireguard-go keeps its
#            session (the PSK only enters a handshake)
#   t=ROT    both daemons get SIGTERM: the interfaces keep the last PSK
#   t~120    wireguard-go's REKEY_AFTER_TIME handshake, with the last PSK
#   t=PING_S ping ends
# Shown: the PSKs change on both sides and are equal at the end, at least 3
# different ones were seen, no ping lost, a handshake after the last switch
# succeeded, `wg showconf` of each side is byte-identical to the one saved
# before except the PresharedKey lines, each state file keeps at most 3
# versions, and its newest is the interface's key. `scopectl status --json`
# on each side (the control socket /run/scope/IF.sock) shows the same
# psk_version >= 1, pq_state 3, psk_kept <= 3, a recent handshake and the
# interface's endpoint and counters.
# Negative: a config listing a peer whose certificate is for another network
# is refused before anything is touched (showconf identical); so is a config
# whose certificate is not the interface's key; a second scoped on a running
# one's interface is refused (its control socket answers).
#
# Run as root: bash tests/netns/pq_pskonly.sh   (SCOPE_BUILD: build directory;
# SCOPED_OVERRIDE: a scoped binary instead of $SCOPE_BUILD/src/bin/scoped;
# PQ_PSKONLY_PING_S / PQ_PSKONLY_ROT_S shorten the run, e.g. for debugging;
# PQ_PSKONLY_LOGS=DIR keeps the daemons' logs there)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tb_init
# shellcheck source=tests/netns/lib_scope.sh
source "$TB_LIBDIR/lib_scope.sh"
# shellcheck source=tests/netns/lib_pskonly.sh
source "$TB_LIBDIR/lib_pskonly.sh"
[[ -n ${SCOPED_OVERRIDE:-} ]] && SCOPED=$SCOPED_OVERRIDE
tb_require wg wireguard-go ping jq
[[ -x $SCOPED ]] || tb_die "no $SCOPED: build first"

PING_S=${PQ_PSKONLY_PING_S:-150}
ROT_S=${PQ_PSKONLY_ROT_S:-100}
pso_init

# ---------------------------------------------------------------- the network

pso_network http://192.0.2.99:8080
pso_conf alpha bravo "$IF_A" off
pso_conf bravo alpha "$IF_B" off

# ---------------------------------------------------------------- wireguard-go + wg

pso_wireguard_go

tb_exec a wg showconf "$IF_A" >"$TB_DIR/a.before"
tb_exec b wg showconf "$IF_B" >"$TB_DIR/b.before"
strip_psk() { grep -v '^PresharedKey = ' "$1"; }

# ---------------------------------------------------------------- negative cases

# A peer certificate of another network (own admin key): refused at load.
tb__run "scopectl init other" "$SCOPECTL" init "$SC_DIR/net2" --name other \
	--ipv4 10.67.0.0/24 --ipv6 fd67::/64 --registry http://192.0.2.99:8080 \
	--master "m,$(cat "$SC_DIR/m.wgpub"),192.0.2.99:51820"
tb__run "scopectl cert issue other" "$SCOPECTL" cert issue --dir "$SC_DIR/net2" --name bravo \
	--identity "$(cat "$SC_DIR/bravo.idpub")" --wg "$(cat "$SC_DIR/bravo.wgpub")" \
	--ipv4 10.67.0.2 --ipv6 fd67::2 --roles edge --out "$SC_DIR/bravo-other.cert"
pso_conf alpha-bad bravo "$IF_A" off "$SC_DIR/bravo-other.cert"
sed -i "s|alpha-bad\.|alpha.|g" "$SC_DIR/alpha-bad.conf"
rc=0
out=$(tb_exec a "$SCOPED" run "$SC_DIR/alpha-bad.conf" 2>&1) || rc=$?
tb_check "a peer certificate of another network is refused (exit 1)" test "$rc" = 1
tb_check "... with a message naming the file and the network" \
	grep -q "bravo-other.cert: peer certificate is for network 'other', not 'pq'" <<<"$out"
# The interface's key is not the certificate's (bravo's config on a).
pso_conf wrong-if alpha "$IF_A" off
sed -i "s|wrong-if\.|bravo.|g" "$SC_DIR/wrong-if.conf"
rc=0
out=$(tb_exec a env SCOPE_VERBOSE=1 "$SCOPED" run "$SC_DIR/wrong-if.conf" 2>&1) || rc=$?
tb_check "an interface with another key is refused (exit 1)" test "$rc" = 1
tb_check "... naming both keys" grep -q "has the public key $PA, but the certificate of 'bravo'" \
	<<<"$out"
tb_exec a wg showconf "$IF_A" >"$TB_DIR/a.after-refusal"
tb_check "the refused starts changed nothing (showconf identical)" \
	cmp -s "$TB_DIR/a.before" "$TB_DIR/a.after-refusal"
tb_check "... and left no state" test ! -e "$SC_DIR/state-alpha-bad"

# ---------------------------------------------------------------- rotation under ping

H0=$(handshake_of a "$IF_A" "$PB")
tb_bg a bash -c "ping -i 0.2 -c $((PING_S * 5)) -W 2 10.66.0.2 >$TB_DIR/ping.out 2>&1"
PING_PID=$TB_LAST_PID
T0=$(date +%s)
tb_bg a env SCOPE_VERBOSE=1 "$SCOPED" run "$SC_DIR/alpha.conf" 2>"$TB_DIR/alpha.log"
PID_A=$TB_LAST_PID
tb_bg b env SCOPE_VERBOSE=1 "$SCOPED" run "$SC_DIR/bravo.conf" 2>"$TB_DIR/bravo.log"
PID_B=$TB_LAST_PID

declare -A seen=()
last_switch=0 prev=""
while (($(date +%s) < T0 + ROT_S)); do
	k=$(psk_of a "$IF_A" "$PB")
	if [[ $k != "$prev" ]]; then
		seen[$k]=1
		[[ -n $prev ]] && last_switch=$(date +%s)
		prev=$k
	fi
	sleep 0.5
done

# ---------------------------------------------------------------- status while running

# The switch is at one agreed instant on both sides; a read straddling it
# is read again.
same_version() {
	SA=$(status_json a "$IF_A") && SB=$(status_json b "$IF_B") || return 1
	VA=$(peer_field "$SA" psk_version) VB=$(peer_field "$SB" psk_version)
	[[ $VA != null && $VA == "$VB" ]]
}
SA="" SB="" VA="" VB=""
if tb_wait_for 10 same_version; then
	tb_ok "scopectl status --json answers on both sides with the same PSK version"
else
	tb_notok "scopectl status --json answers on both sides with the same PSK version" \
		"a: ${SA:0:300} b: ${SB:0:300}"
fi
tb_note "status: a at psk_version $VA, b at $VB"
for side in A B; do
	j=S$side
	j=${!j}
	tb_check "$side: psk_version >= 1" test "$(peer_field "$j" psk_version)" -ge 1
	tb_check "$side: pq_state 3" test "$(peer_field "$j" pq_state)" = 3
	tb_check "$side: psk_kept <= 3" test "$(peer_field "$j" psk_kept)" -le 3
	tb_check "$side: psk_reverts 0" test "$(peer_field "$j" psk_reverts)" = 0
	tb_check "$side: a handshake within the last 180 s, path direct" \
		test "$(peer_field "$j" last_handshake_age)" -le 180 -a \
		"$(peer_field "$j" path)" = direct
	tb_check "$side: the interface's counters" test "$(peer_field "$j" rx_bytes)" -gt 0 -a \
		"$(peer_field "$j" tx_bytes)" -gt 0
	tb_check "$side: registry off" test "$(jq -r .registry.url <<<"$j")" = off
done
tb_check "A: the peer is bravo with its endpoint and allowed IPs" \
	test "$(jq -c '.peers[0] | [.name, .public_key, .endpoint, .allowed_ips]' <<<"$SA")" = \
	"[\"bravo\",\"$PB\",\"192.0.2.20:51820\",[\"10.66.0.2/32\"]]"
tb_check "A: interface, public key, role, listen port" \
	test "$(jq -c '[.interface, .public_key, .role, .listen_port]' <<<"$SA")" = \
	"[\"$IF_A\",\"$PA\",\"edge\",51820]"
tb_check "the table form shows the PSK line" \
	bash -c "ip netns exec $(tb_ns a) $SCOPECTL status --interface $IF_A | grep -q 'psk: v'"
# Two daemons rotating one interface would fight; the second one stops.
rc=0
out=$(tb_exec a "$SCOPED" run "$SC_DIR/alpha.conf" 2>&1) || rc=$?
tb_check "a second scoped on the interface is refused (exit 1)" test "$rc" = 1
tb_check "... because the control socket answers" grep -q "is scoped already running" <<<"$out"
tb_check "... and the first one still answers" status_json a "$IF_A" >/dev/null

tb_kill "$PID_A"
tb_kill "$PID_B"
stopped=$(date +%s)
# The switch is at an agreed instant on both sides; read both once they stopped.
KA=$(psk_of a "$IF_A" "$PB")
KB=$(psk_of b "$IF_B" "$PA")
[[ $KA != "$prev" ]] && { seen[$KA]=1; last_switch=$stopped; }
tb_note "distinct PSKs seen on a: ${#seen[@]}; last switch $((last_switch - T0)) s after start"
tb_check "the daemons exited on SIGTERM" \
	bash -c "! kill -0 $PID_A 2>/dev/null && ! kill -0 $PID_B 2>/dev/null"
tb_check "the PSK changed on a" test "$KA" != "$PSK0"
tb_check "the PSK changed on b" test "$KB" != "$PSK0"
tb_check "both sides hold the same PSK at the end" test "$KA" = "$KB"
tb_check "at least 3 different PSKs were seen" test "${#seen[@]}" -ge 3

# wireguard-go re-handshakes REKEY_AFTER_TIME (120 s) after the first one.
tb_wait_pid "$PING_PID" $((PING_S + 30)) >/dev/null || true
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TB_DIR/ping.out")
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TB_DIR/ping.out")
lost=$((${tx:-0} - ${rx:-0}))
tb_note "pings: ${tx:-?} sent, ${rx:-?} received, $lost lost"
tb_check "the pings ran" test "${tx:-0}" -ge $((PING_S * 5 - 5))
tb_check "no ping lost" test "$lost" -eq 0
H1=$(handshake_of a "$IF_A" "$PB")
tb_note "latest handshake: $((H0 - T0)) s before, $((H1 - T0)) s after the start"
tb_check "a handshake after the last switch succeeded" \
	test "$H1" -gt "$H0" -a "$H1" -ge "$last_switch"
tb_check "... and traffic still flows" tb_exec a ping -c 2 -i 0.2 -W 2 10.66.0.2

# ---------------------------------------------------------------- nothing else changed

tb_exec a wg showconf "$IF_A" >"$TB_DIR/a.after"
tb_exec b wg showconf "$IF_B" >"$TB_DIR/b.after"
tb_check "a: showconf identical except PresharedKey" \
	cmp -s <(strip_psk "$TB_DIR/a.before") <(strip_psk "$TB_DIR/a.after")
tb_check "b: showconf identical except PresharedKey" \
	cmp -s <(strip_psk "$TB_DIR/b.before") <(strip_psk "$TB_DIR/b.after")
tb_check "a: the PresharedKey line is the new key" grep -qx "PresharedKey = $KA" "$TB_DIR/a.after"

# ---------------------------------------------------------------- state

for n in alpha bravo; do
	p=$([[ $n == alpha ]] && echo bravo || echo alpha)
	f=$SC_DIR/state-$n/psk/$p
	tb_check "$n: state file $f exists, mode 600" \
		bash -c "[ \"\$(stat -c %a '$f')\" = 600 ]"
	tb_check "$n: at most 3 PSK versions kept" test "$(grep -c '^psk ' "$f")" -le 3
	newest=$(awk '$1 == "psk" { k = $4 } END { print k }' "$f")
	tb_check "$n: the newest kept PSK is the interface's" test "$newest" = "$KA"
	tb_check "$n: no secret in the log" bash -c "! grep -qF '$KA' '$TB_DIR/$n.log'"
done
tb_check "the logs show installs" grep -q "event=psk_install" "$TB_DIR/alpha.log"
tb_check "no revert happened" bash -c "! grep -q event=psk_revert $TB_DIR/alpha.log $TB_DIR/bravo.log"
# Sanitizer builds (SCOPED_OVERRIDE of an ASan/UBSan scoped) report on stderr.
tb_check "no sanitizer report in the logs" \
	bash -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' $TB_DIR/alpha.log $TB_DIR/bravo.log"
[[ -n ${PQ_PSKONLY_LOGS:-} ]] && cp "$TB_DIR/alpha.log" "$TB_DIR/bravo.log" "$PQ_PSKONLY_LOGS/"

if ((TB_NFAIL)); then
	for n in alpha bravo; do
		tb_note "---- $n.log (last 40 lines)"
		tail -n 40 "$TB_DIR/$n.log" | sed 's/^/# /' >&2
	done
fi
tb_done
