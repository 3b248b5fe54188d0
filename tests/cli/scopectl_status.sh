#!/usr/bin/env bash
# scopectl status against a control socket served by ctlsock-serve (a fixed
# status document): the table with each peer's PQ PSK line, --json with the
# PSK fields, the daemon's error, and a clear message when no daemon runs.
# TAP output.
# usage: scopectl_status.sh PATH-TO-SCOPECTL PATH-TO-CTLSOCK-SERVE
set -uo pipefail
ctl=$1
serve=$2
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

dir=$(mktemp -d /tmp/scope-status-test.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

start() {
	"$serve" "$dir/run" lab "$@" >"$dir/serve.out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^ready' "$dir/serve.out" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
stop() {
	kill "$pid"
	wait "$pid"
	local rc=$?
	pid=
	return $rc
}

echo "1..18"
check "the test server starts" start
sock=$dir/run/lab.sock

out=$("$ctl" status --socket "$sock" 2>"$dir/err")
check "status exits 0" test $? -eq 0
check "the table names the role" grep -q '^  role: master$' <<<"$out"
check "the table shows the registry" \
	grep -q 'registry: https://reg.example.net/ (reachable, last contact 4 s ago)' <<<"$out"
check "a direct peer's row: endpoint, handshake, bytes, path, allowed IPs" \
	grep -Eq '^alpha +edge +198\.51\.100\.2:4000 +17 s +1\.18 MiB +89 B +direct +10\.7\.0\.5/32,fd00:7::5/128,192\.168\.1\.0/24$' <<<"$out"
check "a relayed peer's row: no endpoint, no handshake, via the relay" \
	grep -Eq '^beta +edge +- +- +0 B +0 B +via mr1 +-$' <<<"$out"
psk_of() { grep -A1 "^$1 " <<<"$out" | sed -n 2p; }
check "no PQ rotation: 'psk: none'" test "$(psk_of alpha)" = "  psk: none"
check "a PSK: its version, age and KEX state" test "$(psk_of beta)" = "  psk: v3 (age 42s, pq 3)"
check "a PSK that reverted: the reverts, the age in hours" \
	test "$(psk_of gamma)" = "  psk: v12 (age 2h, pq 2, reverts 2)"
check "no PSK yet, an exchange running" test "$(psk_of delta)" = "  psk: none (pq 1)"

json=$("$ctl" status --json --socket "$sock")
check "--json exits 0" test $? -eq 0
if command -v python3 >/dev/null; then
	check "--json is the document" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["version"] == 1 and d["role"] == "master" and d["interface"] == "lab"
p = d["peers"]
assert [x["name"] for x in p] == ["alpha", "beta", "gamma", "delta"]
assert p[0]["rx_bytes"] == 1234567 and p[0]["last_handshake_age"] == 17
assert p[1]["endpoint"] is None and p[1]["via"] == "mr1"
k = ("psk_version", "psk_age_s", "pq_state", "classical", "psk_kept", "psk_reverts")
assert [p[0][x] for x in k] == [None, None, None, 0, None, None]
assert [p[1][x] for x in k] == [3, 42, 3, 2, 3, 0]
assert [p[2][x] for x in k] == [12, 7300, 2, 2, 3, 2]
assert [p[3][x] for x in k] == [None, None, 1, 1, 0, 0]
' "$json"
else
	check "--json is the document" grep -q '"rx_bytes": 1234567' <<<"$json"
fi

"$ctl" status --bogus --socket "$sock" >/dev/null 2>"$dir/err"
check "an unknown option is refused with exit 1" test $? -eq 1
# The server is this shell's child: kill it, wait for it, then its socket
# must be gone (it unlinks it on SIGTERM).
kill "$pid"
wait "$pid" 2>/dev/null
check "stop the server (socket unlinked)" test ! -e "$sock"
pid=

"$ctl" status --socket "$sock" >"$dir/out" 2>"$dir/err"
rc=$?
check "no daemon: exit 1 and 'scoped is not running'" \
	bash -c "test $rc -eq 1 && grep -q 'scoped is not running' '$dir/err' && ! test -s '$dir/out'"
"$ctl" status --interface nosuchif0 >/dev/null 2>"$dir/err"
check "no daemon for --interface: a clear message" grep -q 'scoped is not running' "$dir/err"

start fail
"$ctl" status --socket "$sock" >"$dir/out" 2>"$dir/err"
rc=$?
check "the daemon's error is shown, exit 1" \
	bash -c "test $rc -eq 1 && grep -q 'status unavailable' '$dir/err'"
check "the server stops cleanly" stop

[ $fails -eq 0 ]
