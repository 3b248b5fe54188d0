#!/usr/bin/env bash
# scopectl's trust model end to end: init -> genid -> cert issue -> inspect ->
# verify -> revoke -> verify fails; kill sign/verify; file modes; and every
# refusal exits 1 with a message and leaves no file behind. TAP output.
# usage: scopectl_certs.sh PATH-TO-SCOPECTL
set -uo pipefail
ctl=$(realpath "$1")
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir "$t/w" && cd "$t/w" || exit 1
# Commands whose success is the check: their output is not TAP.
quiet() { "$@" >/dev/null 2>&1; }

mode() { stat -c %a "$1"; }
# A listing of every file under the work directory, to prove a refusal wrote nothing.
snapshot() { find . -printf '%p %s %m\n' | sort | md5sum; }

# refuse DESC ARGS...: exit status 1, a message on stderr, no file created
# or changed anywhere under the work directory.
refuse() {
	local desc=$1 before after rc
	shift
	before=$(snapshot)
	"$ctl" "$@" >"$t/out.txt" 2>"$t/err.txt" </dev/null
	rc=$?
	after=$(snapshot)
	if [ $rc -eq 1 ] && [ -s "$t/err.txt" ] && [ "$before" = "$after" ]; then
		ok "$desc"
	else
		nok "$desc (rc=$rc: $(head -c 200 "$t/err.txt"))"
	fi
}

wg=$("$ctl" genkey | "$ctl" pubkey)
net_args=(--name lab --ipv4 10.7.0.0/16 --ipv6 fd00:7::/48 --registry https://reg.example.net/)

# ---- init ----
"$ctl" init net "${net_args[@]}" --master "mr1,$wg,203.0.113.1:51820" --param dampening=200 >init.txt
check "init succeeds" test $? -eq 0
check "admin.key is mode 0600" test "$(mode net/admin.key)" = 600
check "network directory is mode 0700" test "$(mode net)" = 700
check "admin.pub and network.scope are 0644" \
	test "$(mode net/admin.pub)$(mode net/network.scope)" = 644644
check "init prints the admin public key, not the private key" \
	bash -c "grep -q '$(cat net/admin.pub)' init.txt && ! grep -qF '$(cat net/admin.key)' init.txt"
check "network.scope is armored" \
	bash -c "head -1 net/network.scope | grep -qx -- '-----BEGIN SCOPE NETWORK-----'"
check "no temporary files left" test "$(ls -A net | wc -l)" -eq 3
"$ctl" net inspect --json net/network.scope >net.json
check "net inspect --json shows the definition" python3 -c "
import json, sys
d = json.load(open('net.json'))
assert d['name'] == 'lab' and d['ipv4'] == '10.7.0.0/16' and d['ipv6'] == 'fd00:7::/48', d
assert d['params']['dampening'] == 200 and d['params']['psk-rotation'] == 3600, d
assert d['master_relays'][0]['endpoint'] == '203.0.113.1:51820', d
assert d['admin_key'] == open('net/admin.pub').read().strip(), d
assert d['self_signature'] == 'valid', d
"
refuse "init refuses to overwrite an existing network" init net "${net_args[@]}"
refuse "init refuses a 9-character network name" init net2 --name abcdefghi \
	--ipv4 10.7.0.0/16 --ipv6 fd00:7::/48 --registry https://r/
refuse "init refuses an upper-case network name" init net2 --name Lab \
	--ipv4 10.7.0.0/16 --ipv6 fd00:7::/48 --registry https://r/
refuse "init refuses a prefix with host bits" init net2 --name lab \
	--ipv4 10.7.0.1/16 --ipv6 fd00:7::/48 --registry https://r/
refuse "init refuses an IPv6 prefix as --ipv4" init net2 --name lab \
	--ipv4 fd00::/48 --ipv6 fd00:7::/48 --registry https://r/
refuse "init refuses a non-http registry URL" init net2 --name lab \
	--ipv4 10.7.0.0/16 --ipv6 fd00:7::/48 --registry ftp://r/
refuse "init refuses PSK rotation under 120 s" init net2 "${net_args[@]}" --param psk-rotation=60
refuse "init refuses an unknown constant" init net2 "${net_args[@]}" --param frobs=1
refuse "init refuses a bad master relay" init net2 "${net_args[@]}" --master "mr1,$wg,203.0.113.1"
refuse "init refuses a missing --registry" init net2 --name lab --ipv4 10.7.0.0/16 \
	--ipv6 fd00:7::/48
refuse "init refuses two directories" init net2 net3 "${net_args[@]}"

# ---- identity keys ----
"$ctl" genid >id.key
chmod 600 id.key
id=$("$ctl" idpub <id.key)
check "idpub prints a 44-character key" test "${#id}" -eq 44
check "two genid calls differ" test "$("$ctl" genid)" != "$("$ctl" genid)"
refuse "idpub refuses empty input" idpub
refuse "genid refuses arguments" genid extra

# ---- cert issue / inspect / verify ----
# The issue command line, with I_* variables overriding one field at a time.
mkissue() {
	issue=(cert issue --dir net --name "${I_NAME:-alpha}" --identity "$id" --wg "${I_WG:-$wg}"
		--ipv4 "${I_V4:-10.7.0.5}" --ipv6 fd00:7::5 --roles "${I_ROLES:-edge,relay}"
		--subnet 192.168.1.0/24 --not-before 1700000000 --not-after "${I_NA:-1900000000}")
}
mkissue
"$ctl" "${issue[@]}" --out alpha.cert
check "cert issue writes a certificate" test $? -eq 0 -a -s alpha.cert
check "the certificate is mode 0644" test "$(mode alpha.cert)" = 644
"$ctl" cert inspect alpha.cert >inspect.txt
check "cert inspect shows the name and roles" \
	bash -c "grep -q '^name: *alpha$' inspect.txt && grep -q '^roles: *edge,relay$' inspect.txt"
"$ctl" cert inspect --json - <alpha.cert >cert.json
check "cert inspect --json (from stdin) shows every field" python3 -c "
import json
d = json.load(open('cert.json'))
assert d['network'] == 'lab' and d['name'] == 'alpha' and d['identity'] == '$id', d
assert d['wg_key'] == '$wg' and d['roles'] == ['edge', 'relay'], d
assert d['ipv4'] == '10.7.0.5' and d['ipv6'] == 'fd00:7::5', d
assert d['subnets'] == ['192.168.1.0/24'], d
assert d['not_before'] == 1700000000 and d['not_after'] == 1900000000, d
assert len(d['fingerprint']) == 64, d
"
check "no output ever shows a private key" bash -c \
	"! grep -qF -e '$(cat net/admin.key)' -e '$(cat id.key)' inspect.txt cert.json net.json"
verify=(cert verify --network net/network.scope)
check "cert verify accepts the certificate" quiet "$ctl" "${verify[@]}" --at 1800000000 alpha.cert
check "cert verify accepts an allowed role" quiet "$ctl" "${verify[@]}" --at 1800000000 --role relay \
	alpha.cert
check "cert verify pins the admin key" quiet "$ctl" "${verify[@]}" --at 1800000000 \
	--admin-pub "$(cat net/admin.pub)" alpha.cert
refuse "cert verify refuses before not-before" "${verify[@]}" --at 1699999999 alpha.cert
refuse "cert verify refuses at not-after" "${verify[@]}" --at 1900000000 alpha.cert
refuse "cert verify refuses a role the cert lacks" "${verify[@]}" --at 1800000000 \
	--role master alpha.cert
refuse "cert verify refuses another pinned admin key" "${verify[@]}" --at 1800000000 \
	--admin-pub "$wg" alpha.cert
# One base64 character changed inside the signed bytes.
python3 -c "
lines = open('alpha.cert').read().split('\n')
c = lines[2][5]
lines[2] = lines[2][:5] + ('B' if c == 'A' else 'A') + lines[2][6:]
open('tampered.cert', 'w').write('\n'.join(lines))
"
cmp -s alpha.cert tampered.cert
check "the tampered copy differs" test $? -eq 1
refuse "cert verify refuses a tampered certificate" "${verify[@]}" --at 1800000000 tampered.cert
refuse "cert verify refuses a network file as a certificate" "${verify[@]}" net/network.scope

# ---- net update: new master relays and constants, the next serial ----
wg2=$("$ctl" genkey | "$ctl" pubkey)
quiet "$ctl" net update --dir net --master "mr1,$wg,203.0.113.1:51820" \
	--master "mr2,$wg2,[2001:db8::2]:51820" --param revert=20
"$ctl" net inspect --json net/network.scope >net2.json
check "net update re-signs the definition with serial 2" python3 -c "
import json
d = json.load(open('net2.json'))
assert d['serial'] == 2 and d['self_signature'] == 'valid', d
assert [r['endpoint'] for r in d['master_relays']] == ['203.0.113.1:51820', '[2001:db8::2]:51820'], d
assert d['params']['revert'] == 20 and d['params']['dampening'] == 200, d
"
check "net update keeps network.scope at 0644" test "$(mode net/network.scope)" = 644
check "certificates still verify after the update" quiet "$ctl" "${verify[@]}" --at 1800000000 \
	alpha.cert
refuse "net update refuses a master relay listed twice" net update --dir net \
	--master "mr1,$wg,203.0.113.1:51820" --master "mr1,$wg,203.0.113.2:51820"
refuse "net update refuses a constant out of range" net update --dir net --param reach-bar=0
refuse "net update needs a change" net update --dir net

# A second network with the same name but its own admin key.
"$ctl" init other "${net_args[@]}" >/dev/null
refuse "a certificate of another admin key does not verify" cert verify \
	--network other/network.scope --at 1800000000 alpha.cert
"$ctl" init prod --name prod --ipv4 10.9.0.0/16 --ipv6 fd00:9::/48 --registry https://r/ >/dev/null

# Issue refusals leave no file.
I_V4=10.8.0.5 mkissue
refuse "cert issue refuses an address outside the network" "${issue[@]}" --out bad.cert
I_V4=10.7.0.0 mkissue
refuse "cert issue refuses the network address" "${issue[@]}" --out bad.cert
I_NAME=abcdefghijklmnopqrstuvwxyz0123456 mkissue
refuse "cert issue refuses a 33-character name" "${issue[@]}" --out bad.cert
I_WG=AAAA mkissue
refuse "cert issue refuses a bad WireGuard key" "${issue[@]}" --out bad.cert
I_ROLES=admin mkissue
refuse "cert issue refuses unknown roles" "${issue[@]}" --out bad.cert
I_NA=1700000000 mkissue
refuse "cert issue refuses an empty validity window" "${issue[@]}" --out bad.cert
mkissue
refuse "cert issue refuses a subnet with host bits" "${issue[@]}" --subnet 10.1.1.1/24 \
	--out bad.cert
refuse "cert issue refuses a missing --wg" cert issue --dir net --name a --identity "$id" \
	--ipv4 10.7.0.6 --ipv6 fd00:7::6 --out bad.cert
refuse "cert issue refuses to overwrite an existing file" "${issue[@]}" --out alpha.cert
chmod 644 net/admin.key
refuse "cert issue refuses an admin key readable by others" "${issue[@]}" --out bad.cert
chmod 600 net/admin.key
cp other/admin.key swapped.key
cp net/admin.key net/admin.key.orig
cp swapped.key net/admin.key
refuse "cert issue refuses an admin key that does not match network.scope" "${issue[@]}" \
	--out bad.cert
cp net/admin.key.orig net/admin.key
rm -f net/admin.key.orig swapped.key

# ---- revoke ----
I_NAME=beta mkissue
"$ctl" "${issue[@]}" --out beta.cert
check "a second certificate verifies" quiet "$ctl" "${verify[@]}" --at 1800000000 beta.cert
"$ctl" revoke add --dir net --cert alpha.cert >/dev/null
check "revoke add writes revoked.scope (0644)" test "$(mode net/revoked.scope)" = 644
refuse "a revoked certificate fails verify" "${verify[@]}" --revoked net/revoked.scope \
	--at 1800000000 alpha.cert
check "an unrevoked certificate still verifies" quiet "$ctl" "${verify[@]}" \
	--revoked net/revoked.scope --at 1800000000 beta.cert
refuse "revoking the same certificate again changes nothing" revoke add --dir net \
	--cert alpha.cert
refuse "revoke refuses a certificate of another network" revoke add --dir prod --cert alpha.cert
refuse "revoke refuses a malformed fingerprint" revoke add --dir net --fingerprint abc
"$ctl" revoke add --dir net --identity "$id" >/dev/null
"$ctl" revoke inspect --json net/revoked.scope >rl.json
check "the list has serial 2 and both entries" python3 -c "
import json
d = json.load(open('rl.json'))
assert d['serial'] == 2 and d['network'] == 'lab', d
assert {'identity': '$id'} in d['entries'] and len(d['entries']) == 2, d
"
refuse "revoking the identity revokes its other certificates" "${verify[@]}" \
	--revoked net/revoked.scope --at 1800000000 beta.cert
refuse "a revocation list of another admin key is refused" cert verify \
	--network other/network.scope --revoked net/revoked.scope --at 1800000000 alpha.cert

# ---- kill switch ----
"$ctl" kill sign --dir net --all --serial 5 --out kill.all
check "kill sign --all writes a kill switch" test $? -eq 0 -a -s kill.all
check "kill verify accepts it" quiet "$ctl" kill verify --network net/network.scope kill.all
"$ctl" kill inspect --json kill.all >kill.json
check "kill inspect --json shows target all" python3 -c "
import json
d = json.load(open('kill.json'))
assert d['target'] == 'all' and d['serial'] == 5 and d['network'] == 'lab', d
"
"$ctl" kill sign --dir net --peer beta --identity "$id" >kill.some
check "kill sign to stdout lists peers" bash -c \
	"'$ctl' kill inspect kill.some | grep -q '^target: *peer beta$'"
check "kill verify accepts the listed switch" quiet "$ctl" kill verify \
	--network net/network.scope kill.some
refuse "a kill switch does not verify against another admin key" kill verify \
	--network other/network.scope kill.all
refuse "kill verify refuses another pinned admin key" kill verify \
	--network net/network.scope --admin-pub "$(cat other/admin.pub)" kill.all
refuse "kill sign needs a target" kill sign --dir net --out kill.none
refuse "kill sign refuses --all with a list" kill sign --dir net --all --peer beta --out kill.none
refuse "kill sign refuses a bad peer name" kill sign --dir net --peer 'Beta!' --out kill.none
refuse "kill sign refuses a target listed twice" kill sign --dir net --peer beta --peer beta \
	--out kill.none
refuse "kill sign refuses to overwrite" kill sign --dir net --all --out kill.all
refuse "kill inspect refuses a certificate" kill inspect alpha.cert
refuse "an unknown subcommand is refused" cert frobnicate

echo "1..$n"
[ $fails -eq 0 ]
