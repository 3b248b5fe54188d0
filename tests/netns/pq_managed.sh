#!/usr/bin/env bash
# tests/netns/pq_managed.sh — post-quantum PSK rotation in managed mode
# (issue 7): a master relay m and an edge e1, both run by scoped with the
# built-in engine, rotate their preshared key every 8 s (test-only
# timing keys) under a continuous ping for PQ_DURATION seconds (default 120).
#
#   [inet] 203.0.113.0/24: reg .10 (scope-registry), m .1, e1 .11
#   overlay 10.77.0.0/24: m .1, e1 .11
#
# Shown: not one ping lost; the active version advances on both sides; the
# state directories never hold more than 3 versions and end with exactly 3;
# both sides hold the same key under the same version; every version
# carries a session made with it (logged psk_proven); the status shows
# version and age; the registry gets the KEX state in reports.
#
# Run as root: bash tests/netns/pq_managed.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/netns/lib_scope.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_scope.sh"
# shellcheck source=tests/netns/lib_pq.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_pq.sh"

tb_init
tb_require ping jq
DURATION=${PQ_DURATION:-120}
if [[ -n ${KEEP_LOGS:-} ]]; then
	mkdir -p "$KEEP_LOGS"
	tb_defer bash -c 'cp "$1"/*.log "$1"/*.txt "$2"/ 2>/dev/null || true' _ "$TB_DIR" "$KEEP_LOGS"
fi

pq_pair "TestOnlyPskPeriod = 8" "TestOnlyPskActivation = 1" "TestOnlyPskRetry = 1"

tb_check "e1 reaches m over the overlay" tb_wait_for 20 tb_exec e1 ping -c 1 -W 1 10.77.0.1
pq_active() { (($(pq_version e1 m) > 0 && $(pq_version m e1) > 0)); }
tb_check "a first PQ PSK is active on both sides within 30 s" tb_wait_for 30 pq_active
v0_e1=$(pq_version e1 m)
v0_m=$(pq_version m e1)
tb_note "first versions: e1 $v0_e1, m $v0_m"

# A ping every 0.2 s for the whole run, in the background.
count=$((DURATION * 5))
tb_bg e1 bash -c "ping -n -i 0.2 -c $count -W 2 10.77.0.1 >'$TB_DIR/ping.txt' 2>&1"
ping_pid=$TB_LAST_PID

max_kept=0
samples=0
proven=0
end=$((SECONDS + DURATION))
while ((SECONDS < end)); do
	sleep 5
	for pair in "e1 m" "m e1"; do
		read -r a b <<<"$pair"
		k=$(pq_disk_versions "$a" "$b" | wc -l)
		((k > max_kept)) && max_kept=$k
	done
	w=$(pq_field e1 m psk_working)
	v=$(pq_version e1 m)
	samples=$((samples + 1))
	[[ -n $w && $w == "$v" ]] && proven=$((proven + 1))
done
tb_wait_pid "$ping_pid" 30 >/dev/null || true

read -r sent got < <(pq_loss "$TB_DIR/ping.txt")
tb_note "pings: $sent sent, $got received"
if [[ -n ${sent:-} && $sent == "$count" && $got == "$sent" ]]; then
	tb_ok "no ping lost in $DURATION s of rotations ($sent pings)"
else
	tb_notok "no ping lost in $DURATION s of rotations" "sent ${sent:-?} received ${got:-?}"
fi

v1_e1=$(pq_version e1 m)
v1_m=$(pq_version m e1)
tb_note "last versions: e1 $v1_e1, m $v1_m ($(((v1_e1 - v0_e1))) rotations in $DURATION s)"
min_adv=$((DURATION / 20))
if ((v1_e1 - v0_e1 >= min_adv && v1_m - v0_m >= min_adv)); then
	tb_ok "versions advance on both sides (at least $min_adv)"
else
	tb_notok "versions advance on both sides (at least $min_adv)" \
		"e1 $v0_e1 -> $v1_e1, m $v0_m -> $v1_m"
fi

tb_note "most versions on disk at any sample: $max_kept"
if ((max_kept <= 3)); then
	tb_ok "never more than 3 versions kept on disk"
else
	tb_notok "never more than 3 versions kept on disk" "saw $max_kept"
fi
k_e1=$(pq_disk_versions e1 m | wc -l)
k_m=$(pq_disk_versions m e1 | wc -l)
if ((k_e1 == 3 && k_m == 3)); then
	tb_ok "exactly 3 versions kept on each side after the run"
else
	tb_notok "exactly 3 versions kept on each side after the run" "e1 $k_e1, m $k_m"
fi

# The same key under the same version on both sides: compare every version
# both hold (the newest may be one step apart for a moment).
same=0
diff=0
for v in $(pq_disk_versions e1 m); do
	ka=$(pq_disk_key e1 m "$v")
	kb=$(pq_disk_key m e1 "$v")
	[[ -z $kb ]] && continue
	if [[ $ka == "$kb" ]]; then same=$((same + 1)); else diff=$((diff + 1)); fi
done
if ((same >= 2 && diff == 0)); then
	tb_ok "both sides hold the same keys ($same versions compared)"
else
	tb_notok "both sides hold the same keys" "$same equal, $diff different"
fi
# Every version but the newest is proven by a session made with it (the
# engine allows one initiation per REKEY_TIMEOUT, 5 s: well within 8 s).
unproven=""
for n in e1 m; do
	for v in $(seq "$((v0_e1 + 1))" "$((v1_e1 - 1))"); do
		grep -qE "event=psk_proven peer=[a-z0-9]+ version=$v\$" "$TB_DIR/$n.log" ||
			unproven+=" $n:v$v"
	done
done
tb_note "samples where the newest version was already proven: $proven of $samples"
if [[ -z $unproven ]]; then
	tb_ok "every version from $((v0_e1 + 1)) to $((v1_e1 - 1)) carried a session on both sides"
else
	tb_notok "every version carried a session on both sides" "not proven:$unproven"
fi
age=$(pq_field e1 m psk_age_s)
tb_check "scopectl status shows the PSK version and age" test -n "$age"
# The KEX state reaches the registry in e1's reports (read from its database).
report_has_pq() {
	python3 - "$SC_DIR/registry.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
row = db.execute("SELECT report FROM peers WHERE name = 'e1' AND report IS NOT NULL").fetchone()
if row is None:
    sys.exit(1)
rec = json.loads(row[0] if isinstance(row[0], str) else row[0].decode())
body = json.loads(rec["body"])
sys.exit(0 if any(p.get("peer") == "m" and p.get("pq_state") == 3 and p.get("kex_version", 0) > 0
                  and p.get("classical") == 2 for p in body["peers"]) else 1)
PY
}
tb_check "e1 reports pq_state 3 and a session with m to the registry" tb_wait_for 40 report_has_pq
tb_check "no revert happened" bash -c "! grep -q 'event=psk_revert' '$TB_DIR/e1.log' '$TB_DIR/m.log'"

tb_done
