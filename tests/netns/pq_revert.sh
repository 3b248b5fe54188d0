#!/usr/bin/env bash
# tests/netns/pq_revert.sh — revert to the last working PSK version (issue 7).
#
# m and e1 as in pq_managed.sh, rotating every 20 s (longer than the 15 s
# revert, or the next version would replace the faulty one first); e1 is
# made to install a wrong key as version 2 (the test-only key
# TestOnlyCorruptPskVersion: its engine gets version 2 with one bit flipped,
# while its state machine holds the right one). No handshake can then be
# made with version 2: both sides must be back on version 1 within 15 s of
# the switch (DESIGN.md section 8; the check allows 20 s for polling),
# report it, and rotate on to version 3 with equal keys. The tunnel keeps its
# version-1 session meanwhile: no ping may be lost.
#
# Run as root: bash tests/netns/pq_revert.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/netns/lib_scope.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_scope.sh"
# shellcheck source=tests/netns/lib_pq.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_pq.sh"

tb_init
tb_require ping jq
if [[ -n ${KEEP_LOGS:-} ]]; then
	mkdir -p "$KEEP_LOGS"
	tb_defer bash -c 'cp "$1"/*.log "$1"/*.txt "$2"/ 2>/dev/null || true' _ "$TB_DIR" "$KEEP_LOGS"
fi

TIMING=("TestOnlyPskPeriod = 20" "TestOnlyPskActivation = 1" "TestOnlyPskRetry = 1")
pq_setup "${TIMING[@]}"
sc_scope_keys e1 "TestOnlyCorruptPskVersion = 2" # the fault, on e1 only
pq_start

tb_check "e1 reaches m over the overlay" tb_wait_for 20 tb_exec e1 ping -c 1 -W 1 10.77.0.1
tb_bg e1 bash -c "ping -n -i 0.2 -c 450 -W 2 10.77.0.1 >'$TB_DIR/ping.txt' 2>&1"
ping_pid=$TB_LAST_PID

corrupt_installed() { grep -qE 'event=psk_install .*version=2 .*test_only_corrupted=1' "$TB_DIR/e1.log"; }
tb_check "e1 installs a corrupted version 2 (the fault)" tb_wait_for 60 corrupt_installed
t0=$SECONDS
both_back() { (($(pq_version e1 m) == 1 && $(pq_version m e1) == 1)); }
reverted() { grep -q 'event=psk_revert' "$TB_DIR/$1.log"; }
if tb_wait_for 20 both_back && reverted e1 && reverted m; then
	tb_ok "both sides are back on version 1 within 20 s ($((SECONDS - t0)) s after the fault)"
else
	tb_notok "both sides are back on version 1" "e1 $(pq_version e1 m), m $(pq_version m e1)"
fi
tb_check "the revert is reported in the status (psk_reverts)" \
	bash -c "[[ \$(ip netns exec $(tb_ns e1) $SCOPECTL status --json --interface ${TB_PREFIX}e1 |
		jq '.peers[0].psk_reverts') -ge 1 ]]"
later() { (($(pq_version e1 m) >= 3 && $(pq_version m e1) >= 3)); }
tb_check "the rotation goes on to version 3 and later" tb_wait_for 40 later
v=$(pq_version e1 m)
tb_check "both sides hold the same key for version $v" \
	bash -c "[[ -n \$1 && \$1 == \$2 ]]" _ "$(pq_disk_key e1 m "$v")" "$(pq_disk_key m e1 "$v")"
tb_wait_pid "$ping_pid" 120 >/dev/null || true
read -r sent got < <(pq_loss "$TB_DIR/ping.txt")
tb_note "pings: ${sent:-?} sent, ${got:-?} received"
tb_check "no ping lost across the fault and the revert" test "${got:-0}" = "${sent:-x}"

tb_done
