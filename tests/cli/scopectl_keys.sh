#!/usr/bin/env bash
# scopectl genkey/pubkey/genpsk against wg(8): same key text both ways, and
# bad input refused with exit 1 and a message. TAP output.
# usage: scopectl_keys.sh PATH-TO-SCOPECTL
set -uo pipefail
ctl=$1
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

have_wg=0
command -v wg >/dev/null 2>&1 && have_wg=1

priv=$("$ctl" genkey)
check "genkey prints 44 base64 chars" test "${#priv}" -eq 44
pub=$(printf '%s\n' "$priv" | "$ctl" pubkey)
check "pubkey prints 44 chars" test "${#pub}" -eq 44
if [ $have_wg = 1 ]; then
	check "wg pubkey agrees with scopectl pubkey on a scopectl key" \
		test "$(printf '%s\n' "$priv" | wg pubkey)" = "$pub"
	wpriv=$(wg genkey)
	check "scopectl pubkey agrees with wg pubkey on a wg key" \
		test "$(printf '%s\n' "$wpriv" | "$ctl" pubkey)" = "$(printf '%s\n' "$wpriv" | wg pubkey)"
	psk=$("$ctl" genpsk)
	check "wg accepts a scopectl preshared key" \
		bash -c "printf '%s\n' '$psk' | wg pubkey >/dev/null"
else
	skip "wg interop" "wireguard-tools not installed"
fi
check "two genkey calls differ" test "$("$ctl" genkey)" != "$("$ctl" genkey)"

# Refusals: exit 1, a message on stderr, nothing on stdout.
refuse() {
	local desc=$1 input=$2 out err rc
	shift 2
	out=$(printf '%s' "$input" | "$ctl" "$@" 2>/tmp/scopectl_err.$$)
	rc=$?
	err=$(cat /tmp/scopectl_err.$$)
	rm -f /tmp/scopectl_err.$$
	check "$desc" test "$rc" -eq 1 -a -z "$out" -a -n "$err"
}
refuse "pubkey refuses a short key" "AAAA" pubkey
refuse "pubkey refuses a key with a trailing line" "$priv
extra" pubkey
refuse "pubkey refuses a non-canonical key" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=" pubkey
refuse "pubkey refuses empty input" "" pubkey
refuse "genkey refuses arguments" "" genkey extra
refuse "an unknown command is refused" "" frobnicate

echo "1..$n"
[ $fails -eq 0 ]
