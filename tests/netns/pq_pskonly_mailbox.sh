#!/usr/bin/env bash
# tests/netns/pq_pskonly_mailbox.sh — PSK-only mode (issue 7, docs/pskonly.md)
# with a registry: the in-tunnel KEX port is blocked on both sides, so every
# key-exchange message travels through the registry's mailbox, and both
# daemons send reports like managed nodes.
#
#   a: wireguard-go (IF_A) + scoped run alpha.conf    b: wireguard-go (IF_B) + scoped run bravo.conf
#      192.0.2.10, overlay 10.66.0.1/24                  192.0.2.20, overlay 10.66.0.2/24
#      nft: udp dport 51899 dropped                      nft: udp dport 51899 dropped
#        |                                                  |
#        +--------------------- [inet] ---------------------+
#                                  |
#                        reg: scope-registry 192.0.2.99:8080
#
# Backend = uapi, Registry = http://192.0.2.99:8080, TestOnlyPskPeriod = 8 s,
# activation 2 s, retry 2 s (a message goes through the mailbox when its
# in-tunnel copy is not answered within a retry).
#
# Shown (ping -i 0.2 from a to b throughout): the PSKs change on both sides
# and are equal, at least 2 different PQ ones were seen; the nft
# rules dropped KEX datagrams on both sides, and both mailboxes fetched
# messages; no ping lost; `scopectl status --json` shows the registry
# reachable and the same psk_version (pq_state 3) on both sides; the
# registry's database holds each side's report naming the other with
# pq_state 3, a version, a session (classical 2) and reach 0.
# Negative: a second scoped started on a running interface is refused; and
# the blocked in-tunnel path is real (the nft counters are not zero).
#
# Run as root: bash tests/netns/pq_pskonly_mailbox.sh   (SCOPE_BUILD: build
# directory; SCOPED_OVERRIDE: another scoped; PQ_MAILBOX_ROT_S shortens or
# lengthens the rotation phase, default 60; PQ_PSKONLY_LOGS=DIR keeps logs)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tb_init
# shellcheck source=tests/netns/lib_scope.sh
source "$TB_LIBDIR/lib_scope.sh"
# shellcheck source=tests/netns/lib_pskonly.sh
source "$TB_LIBDIR/lib_pskonly.sh"
[[ -n ${SCOPED_OVERRIDE:-} ]] && SCOPED=$SCOPED_OVERRIDE
tb_require wg wireguard-go ping jq nft python3
[[ -x $SCOPED ]] || tb_die "no $SCOPED: build first"

ROT_S=${PQ_MAILBOX_ROT_S:-60}
KEX_PORT=51899
REG=192.0.2.99:8080
pso_init
tb_host reg
tb_attach reg inet 192.0.2.99/24

# ---------------------------------------------------------------- the network

pso_network "http://$REG"
pso_conf alpha bravo "$IF_A" "http://$REG" "" "TestOnlyPskRetry = 2"
pso_conf bravo alpha "$IF_B" "http://$REG" "" "TestOnlyPskRetry = 2"

# In-tunnel KEX blocked (counted): only the mailbox carries the messages.
for h in a b; do
	tb_exec "$h" nft -f - <<NFT
table inet pqtest {
	chain out {
		type filter hook output priority 0; policy accept;
		udp dport $KEX_PORT counter drop
	}
}
NFT
done
kex_dropped() { # HOST -> packets the rule dropped
	tb_exec "$1" nft list table inet pqtest | awk '/dport/ { for (i = 1; i < NF; i++)
		if ($i == "packets") print $(i + 1) }'
}

sc_registry reg "$REG"

# ---------------------------------------------------------------- wireguard-go + wg

pso_wireguard_go

# ---------------------------------------------------------------- rotation under ping

PING_N=$(((ROT_S + 45) * 5))
tb_bg a bash -c "ping -i 0.2 -c $PING_N -W 2 10.66.0.2 >$TB_DIR/ping.out 2>&1"
PING_PID=$TB_LAST_PID
T0=$(date +%s)
tb_bg a env SCOPE_VERBOSE=1 "$SCOPED" run "$SC_DIR/alpha.conf" 2>"$TB_DIR/alpha.log"
PID_A=$TB_LAST_PID
tb_bg b env SCOPE_VERBOSE=1 "$SCOPED" run "$SC_DIR/bravo.conf" 2>"$TB_DIR/bravo.log"
PID_B=$TB_LAST_PID

declare -A seen=()
prev=""
while (($(date +%s) < T0 + ROT_S)); do
	k=$(psk_of a "$IF_A" "$PB")
	if [[ $k != "$prev" ]]; then
		[[ $k != "$PSK0" ]] && seen[$k]=1
		prev=$k
	fi
	sleep 0.5
done
tb_note "distinct PQ PSKs seen on a in $ROT_S s: ${#seen[@]}"
tb_check "at least 2 different PQ PSKs were seen on a" test "${#seen[@]}" -ge 2
tb_check "in-tunnel KEX datagrams were dropped on a" test "$(kex_dropped a)" -gt 0
tb_check "in-tunnel KEX datagrams were dropped on b" test "$(kex_dropped b)" -gt 0
for n in alpha bravo; do
	tb_check "$n joined the registry" grep -q "event=registry_joined" "$TB_DIR/$n.log"
	tb_check "$n's mailbox fetched messages" \
		grep -qE "subsys=mailbox event=fetched messages=[1-9]" "$TB_DIR/$n.log"
done

# ---------------------------------------------------------------- status and reports

same_version() {
	SA=$(status_json a "$IF_A") && SB=$(status_json b "$IF_B") || return 1
	VA=$(peer_field "$SA" psk_version) VB=$(peer_field "$SB" psk_version)
	[[ $VA != null && $VA == "$VB" ]]
}
SA="" SB="" VA="" VB=""
if tb_wait_for 10 same_version; then
	tb_ok "scopectl status --json: the same PSK version on both sides ($VA)"
else
	tb_notok "scopectl status --json: the same PSK version on both sides" \
		"a: ${SA:0:300} b: ${SB:0:300}"
fi
for side in A B; do
	j=S$side
	j=${!j}
	tb_check "$side: status pq_state 3" test "$(peer_field "$j" pq_state)" = 3
	tb_check "$side: status psk_kept <= 3" test "$(peer_field "$j" psk_kept)" -le 3
	tb_check "$side: status shows the registry reachable" \
		test "$(jq -c '[.registry.url, .registry.reachable]' <<<"$j")" = "[\"http://$REG\",true]"
	tb_check "$side: status shows a recent registry contact" \
		test "$(jq -r '.registry.last_contact_age' <<<"$j")" -le 30
done

# The registry keeps each node's latest report (docs/registry.md).
report_of() { # NODE -> the report body's peers, or exit 1
	python3 - "$SC_DIR/registry.db" "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
row = db.execute("SELECT report FROM peers WHERE name = ? AND report IS NOT NULL",
                 (sys.argv[2],)).fetchone()
if row is None:
    sys.exit(1)
rec = json.loads(row[0] if isinstance(row[0], str) else row[0].decode())
print(json.dumps(json.loads(rec["body"])["peers"], sort_keys=True))
PY
}
report_pq3() { # NODE PEER: NODE's report shows PEER at pq_state 3 with a session
	report_of "$1" 2>/dev/null | jq -e --arg p "$2" 'any(.[]; .peer == $p and .pq_state == 3 and
		.kex_version > 0 and .classical == 2 and .reach == 0 and .handshake == true)' >/dev/null
}
# Reports go every 30 s (the first 5 s after start): at most one more period.
tb_check "alpha's report in the registry: bravo at pq_state 3" tb_wait_for 40 report_pq3 alpha bravo
tb_check "bravo's report in the registry: alpha at pq_state 3" tb_wait_for 40 report_pq3 bravo alpha
tb_note "alpha's report: $(report_of alpha 2>/dev/null || echo none)"

# Negative: a second daemon on a running interface stops before it
# touches anything (it would fight over the PSKs).
rc=0
out=$(tb_exec a "$SCOPED" run "$SC_DIR/alpha.conf" 2>&1) || rc=$?
tb_check "a second scoped on a's interface is refused" test "$rc" = 1
tb_check "... because the control socket answers" grep -q "is scoped already running" <<<"$out"

# Both switch at one agreed instant; a read straddling it is read again.
same_psk() {
	KA=$(psk_of a "$IF_A" "$PB") KB=$(psk_of b "$IF_B" "$PA")
	[[ $KA != "$PSK0" && $KA == "$KB" ]]
}
tb_check "both interfaces hold the same rotated PSK" tb_wait_for 10 same_psk
tb_kill "$PID_A"
tb_kill "$PID_B"
tb_check "the daemons exited on SIGTERM" \
	bash -c "! kill -0 $PID_A 2>/dev/null && ! kill -0 $PID_B 2>/dev/null"
# One daemon may stop just before a switch the other still makes: the
# interfaces may then differ by that one version, but a's key must be one
# that b derived too (a version both agreed on).
KA=$(psk_of a "$IF_A" "$PB")
tb_check "a's final PSK is one b keeps as well" \
	awk -v k="$KA" '$1 == "psk" && $NF == k { f = 1 } END { exit !f }' \
	"$SC_DIR/state-bravo/psk/alpha"

tb_wait_pid "$PING_PID" 60 >/dev/null || true
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TB_DIR/ping.out")
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TB_DIR/ping.out")
lost=$((${tx:-0} - ${rx:-0}))
tb_note "pings: ${tx:-?} sent, ${rx:-?} received, $lost lost"
tb_check "the pings ran" test "${tx:-0}" -ge $((PING_N - 5))
tb_check "no ping lost" test "$lost" -eq 0
tb_check "traffic still flows" tb_exec a ping -c 2 -i 0.2 -W 2 10.66.0.2

for n in alpha bravo; do
	tb_check "$n: no secret in the log" bash -c "! grep -qF '$KA' '$TB_DIR/$n.log'"
done
tb_check "no revert happened" bash -c "! grep -q event=psk_revert $TB_DIR/alpha.log $TB_DIR/bravo.log"
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
