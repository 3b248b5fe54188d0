#!/usr/bin/env bash
# tests/netns/star_compromised.sh — a compromised registry cannot add a peer
# or swap a key (issue 6): it can drop or delay, never forge.
#
#   reg 203.0.113.10:8470   the real scope-registry
#   evil 203.0.113.66:8470  evil_registry.py: forwards to reg, lies in the
#                           answers (the network definition names it, as if
#                           the registry host itself were taken over)
#   evil 203.0.113.66:8471  a second scope-registry for mallory's forged
#                           network (same name and prefixes, another admin key)
#   m 203.0.113.1:51820     master relay
#   e1 10.1.0.2 (fullcone NAT), e2 10.2.0.2 (symmetric NAT), e3 203.0.113.33
#                           edges; e3 publishes its endpoint :51823
#   mal 203.0.113.99        the attacker: scoped with mallory's forged
#                           certificate and WireGuard key, aimed at m
#
# The lies: mallory's document (genuine record, certificate of another admin)
# in every peer list and as a join event; e3's document with the attacker's
# WireGuard key in the summary, or everywhere including the certificate
# bytes; e3's signed endpoint moved to the attacker; a full list that
# carries the swapped e3; and the replayed document of e4 after the admin
# revoked it. Shown: every node logs document_refused, the
# master never configures the forged peer or key (scopectl status --json),
# the attacker's WireGuard gets no handshake and cannot reach the overlay,
# and e1 pings e2 throughout with no loss beyond a glitch.
#
# Run as root: bash tests/netns/star_compromised.sh   (SCOPE_BUILD: build directory,
# KEEP_LOGS: a directory to keep the logs in)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 is missing (the compromised registry is a python3 proxy)"
	exit 0
fi

# shellcheck source=tests/netns/lib_scope.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_scope.sh"

tb_init
tb_require ping curl jq
# KEEP_LOGS=DIR: the nodes' and the proxy's logs are copied there at the end.
if [[ -n ${KEEP_LOGS:-} ]]; then
	mkdir -p "$KEEP_LOGS"
	tb_defer bash -c 'cp "$1"/*.log "$1"/*.json "$1"/*.txt "$2"/ 2>/dev/null || true' _ \
		"$TB_DIR" "$KEEP_LOGS"
fi

EVIL=$TB_LIBDIR/evil_registry.py
MAL_EP=203.0.113.99:51823

# ---------------------------------------------------------------- underlay

sc_star_underlay
tb_host evil
tb_attach evil inet 203.0.113.66/24
tb_host e4
tb_attach e4 inet 203.0.113.34/24
tb_host mal
tb_attach mal inet 203.0.113.99/24

# ---------------------------------------------------------------- helpers

# scoped NAME in HOST with its log in $TB_DIR/NAME.log (info lines too).
start_node() {
	local h=$1 n=$2
	SC_HOST[$n]=$h
	tb_bg "$h" env SCOPE_VERBOSE=1 "$SCOPED" run "$SC_DIR/$n.conf" 2>"$TB_DIR/$n.log"
	SC_PID[$n]=$TB_LAST_PID
}

status_json() {
	tb_exec "${SC_HOST[$1]}" "$SCOPECTL" status --json --interface "$TB_PREFIX$1"
}

reachable() {
	status_json "$1" 2>/dev/null | jq -e '.registry.reachable == true' >/dev/null
}

# Lines in NAME's log so far.
log_mark() {
	wc -l <"$TB_DIR/$1.log"
}

# Wait until a line after line MARK of NAME's log matches the extended regex RE.
log_since() {
	local n=$1 mark=$2 re=$3
	tb_wait_for 15 bash -c 'tail -n "+$(($2 + 1))" "$1" | grep -qE -- "$3"' _ \
		"$TB_DIR/$n.log" "$mark" "$re"
}

# The master's configured peers never hold the attacker's key or endpoint,
# nor a peer named mallory; e3, if configured, has its own key.
master_clean() {
	status_json m | jq -e --arg mk "$(cat "$SC_DIR/mallory.wgpub")" \
		--arg e3 "$(cat "$SC_DIR/e3.wgpub")" --arg ep "$MAL_EP" '
		[.peers[] | select(.name == "mallory" or .public_key == $mk or
			.endpoint == $ep or (.name == "e3" and .public_key != $e3))]
		| length == 0' >/dev/null
}

master_has() {
	status_json m | jq -e --arg n "$1" --arg k "$(cat "$SC_DIR/$1.wgpub")" \
		'any(.peers[]; .name == $n and .public_key == $k)' >/dev/null
}

master_lacks() {
	! master_has "$1"
}

# The attacker's WireGuard has been trying m (bytes sent) and got no handshake.
mal_shut_out() {
	status_json mallory | jq -e '
		any(.peers[]; .name == "m" and .tx_bytes > 0 and .last_handshake_age == null)' \
		>/dev/null
}

mal_cannot_ping() {
	! tb_exec mal ping -c 3 -i 0.3 -W 1 "$1" >/dev/null 2>&1
}

GEN=0
# attack NAME WHERE TARGET NODE...: order an attack from the proxy and wait until every node in the list has
# been served it ("served"/"expired" lines of the proxy's log).
attack() {
	local attack=$1 where=$2 target=$3 n
	shift 3
	GEN=$((GEN + 1))
	jq -n --argjson g "$GEN" --arg a "$attack" --arg w "$where" \
		--arg k "$(cat "$SC_DIR/mallory.wgpub")" --arg ep "$MAL_EP" \
		--arg t "$target" --arg kill "${FORGED_KILL:-}" \
		'{gen: $g, attack: $a, target: $t, where: $w, key: $k, endpoint: $ep, kill: $kill}' \
		>"$TB_DIR/ctl.json.tmp"
	mv -f "$TB_DIR/ctl.json.tmp" "$TB_DIR/ctl.json"
	for n in "$@"; do
		tb_wait_for 20 grep -qE "^(served|expired) gen=$GEN .* to=$n\$" "$TB_DIR/evil.log" ||
			tb_notok "the proxy served attack $attack to $n" "$(tail -5 "$TB_DIR/evil.log")"
	done
}

# ---------------------------------------------------------------- network

sc_keys m
sc_network demo 10.77.0.0/24 fd77::/64 http://203.0.113.66:8470 m 203.0.113.1:51820
sc_node m master 10.77.0.1 fd77::1
sc_node e1 edge 10.77.0.11 fd77::11
sc_node e2 edge 10.77.0.12 fd77::12
sc_node e3 edge 10.77.0.13 fd77::13
sc_node e4 edge 10.77.0.14 fd77::14
# e3 is public and says where it listens, in its signed join body.
sed -i 's/^ListenPort = 0$/ListenPort = 51823/' "$SC_DIR/e3.conf"
echo "Endpoint = 203.0.113.33:51823" >>"$SC_DIR/e3.conf"

# Mallory's network: the same name, prefixes and master relay (its key and
# address are public), but another admin key, and its own registry.
sc_keys mallory
tb__run "scopectl init (forged)" "$SCOPECTL" init "$SC_DIR/net2" --name demo \
	--ipv4 10.77.0.0/24 --ipv6 fd77::/64 --registry http://203.0.113.66:8471 \
	--master "m,$(cat "$SC_DIR/m.wgpub"),203.0.113.1:51820"
tb__run "scopectl cert issue (forged)" "$SCOPECTL" cert issue --dir "$SC_DIR/net2" \
	--name mallory --identity "$(cat "$SC_DIR/mallory.idpub")" \
	--wg "$(cat "$SC_DIR/mallory.wgpub")" --ipv4 10.77.0.66 --ipv6 fd77::66 --roles edge \
	--out "$SC_DIR/mallory.cert"
cat >"$SC_DIR/mallory.conf" <<EOF
[Scope]
Network = $SC_DIR/net2/network.scope
AdminKey = $(cat "$SC_DIR/net2/admin.pub")
Certificate = $SC_DIR/mallory.cert
IdentityKey = $SC_DIR/mallory.id
Role = edge
StateDirectory = $SC_DIR/state-mallory

[Interface]
Name = ${TB_PREFIX}mallory
PrivateKeyFile = $SC_DIR/mallory.wg
ListenPort = 51823
PersistentKeepalive = 5
EOF
chmod 600 "$SC_DIR/mallory.conf"

# ---------------------------------------------------------------- registries

tb_bg reg "$SCOPE_REGISTRY" --foreground --network "$SC_DIR/net/network.scope" \
	--listen 203.0.113.10:8470 --db "$SC_DIR/registry.db" --stun off \
	--trusted-proxy 203.0.113.66/32
tb_wait_for 10 tb_exec reg curl -fsS -o /dev/null http://203.0.113.10:8470/healthz ||
	tb_die "scope-registry did not start"
tb_bg evil "$SCOPE_REGISTRY" --foreground --network "$SC_DIR/net2/network.scope" \
	--listen 203.0.113.66:8471 --db "$SC_DIR/evil.db" --stun off
tb_wait_for 10 tb_exec evil curl -fsS -o /dev/null http://203.0.113.66:8471/healthz ||
	tb_die "the forged network's scope-registry did not start"

# The attacker's node joins its own registry: its document there is genuine
# (record signed by mallory's identity), only the certificate is forged.
start_node mal mallory
mallory_doc() {
	python3 - "$SC_DIR/evil.db" >"$TB_DIR/mallory.json" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
row = db.execute("SELECT data FROM events WHERE type = 'join' AND peer = 'mallory'"
                 " ORDER BY seq DESC LIMIT 1").fetchone()
sys.exit(1 if row is None else print(row[0]))
EOF
}
tb_wait_for 15 mallory_doc || tb_die "mallory did not join the forged registry"

echo '{"gen": 0}' >"$TB_DIR/ctl.json"
tb_bg evil python3 "$EVIL" --listen 203.0.113.66:8470 --upstream 203.0.113.10:8470 \
	--ctl "$TB_DIR/ctl.json" --forged "$TB_DIR/mallory.json" >"$TB_DIR/evil.log" 2>&1
tb_wait_for 10 grep -qx ready "$TB_DIR/evil.log" ||
	tb_die "evil_registry.py did not start: $(cat "$TB_DIR/evil.log")"

# ---------------------------------------------------------------- star

start_node m m
tb_wait_for 15 reachable m || tb_notok "the master relay reaches the registry through the proxy"
for n in e1 e2 e3; do
	start_node "$n" "$n"
done
tb_check "e1 pings e2 over the overlay" tb_wait_for 20 tb_exec e1 ping -c 1 -W 1 10.77.0.12
tb_check "e1 pings e3 over the overlay" tb_wait_for 10 tb_exec e1 ping -c 1 -W 1 10.77.0.13
tb_check "e2 pings e3 over the overlay" tb_exec e2 ping -c 2 -i 0.2 -W 2 10.77.0.13

# e1 -> e2 for the whole attack: every 0.2 s, summary on SIGINT.
tb_bg e1 ping -n -i 0.2 -W 1 10.77.0.12 >"$TB_DIR/ping-e1e2.txt" 2>&1
PING_PID=$TB_LAST_PID

# ---------------------------------------------------------------- (a) forged peer

for n in m e1 e2 e3; do
	tb_check "$n refuses mallory's document in the peer list" \
		tb_wait_for 10 grep -qE 'event=document_refused peer=mallory .*certificate' \
		"$TB_DIR/$n.log"
done
tb_check "the master relay has not configured mallory or its key" master_clean
tb_check "the attacker's WireGuard tried the master relay and got no handshake" mal_shut_out
tb_check "the attacker cannot ping the master relay over the overlay" mal_cannot_ping 10.77.0.1
tb_check "the attacker cannot ping an edge over the overlay" mal_cannot_ping 10.77.0.11

before=$(log_mark m)
before_e1=$(log_mark e1)
attack forged_join events e3 m e1 e2 e3
tb_check "a join event with mallory's forged certificate is refused by m" \
	log_since m "$before" 'event=document_refused peer=mallory .*certificate'
tb_check "e1 refuses it too" \
	log_since e1 "$before_e1" 'event=document_refused peer=mallory .*certificate'

# ---------------------------------------------------------------- (b) swapped key

before=$(log_mark m)
attack wgkey_summary events e3 m e1 e2
tb_check "m refuses e3's document with the attacker's key in the summary" \
	log_since m "$before" 'event=document_refused peer=e3 .*summary field wgkey'

before=$(log_mark m)
before_e2=$(log_mark e2)
attack wgkey_cert events e3 m e1 e2
tb_check "m refuses e3's document with the attacker's key inside the certificate" \
	log_since m "$before" 'event=document_refused peer=e3 .*certificate'
tb_check "e2 refuses it too" \
	log_since e2 "$before_e2" 'event=document_refused peer=e3 .*certificate'

# ---------------------------------------------------------------- (c) edited endpoint

before=$(log_mark m)
attack endpoint events e3 m e1 e2
tb_check "m refuses e3's document whose signed endpoint was moved to the attacker" \
	log_since m "$before" 'event=document_refused peer=e3 .*record'

tb_check "after the forged events, m still has e3 with its own key" master_has e3
tb_check "and nothing of the attacker's" master_clean
tb_check "e1 still pings e3" tb_wait_for 10 tb_exec e1 ping -c 1 -W 1 10.77.0.13

# ---------------------------------------------------------------- (d) lying full list

# A full list with the swapped e3: the registry can make m drop e3 (it can
# always withhold a peer), never make it take the attacker's key.
before=$(log_mark m)
attack wgkey_cert list e3 m e1 e2
tb_wait_for 20 grep -qE "^listed gen=$GEN .* to=m\$" "$TB_DIR/evil.log" ||
	tb_notok "the proxy served m the lying list"
tb_check "m refuses the swapped e3 in the full list" \
	log_since m "$before" 'event=document_refused peer=e3 .*certificate'
tb_check "m dropped e3 rather than take the attacker's key" \
	tb_wait_for 10 master_lacks e3
tb_check "and holds nothing of the attacker's" master_clean
attack none events e3 m e1 e2
tb_check "a clean list brings e3 back on m" tb_wait_for 20 master_has e3
tb_check "e1 pings e3 again" tb_wait_for 15 tb_exec e1 ping -c 1 -W 1 10.77.0.13

# ---------------------------------------------------------------- (e) replay of a revoked peer

# e4 joins, is revoked by the admin (the registry removes it: a leave event),
# keeps running with its old view, as a stolen device would, and the
# registry replays its last genuine document. Its certificate is revoked:
# the nodes must refuse it, which needs the revocation list that the
# registry served them (GET /v1/revocations, fetched on every join and on a
# leave event with reason "revoked"), or that they cached earlier.
start_node e4 e4
tb_check "a later edge e4 is on the master relay" tb_wait_for 20 master_has e4
tb_check "e1 pings e4" tb_wait_for 10 tb_exec e1 ping -c 1 -W 1 10.77.0.14
tb__run "scopectl revoke add" "$SCOPECTL" revoke add --dir "$SC_DIR/net" --cert "$SC_DIR/e4.cert"
rl=$(grep -v -- ----- "$SC_DIR/net/revoked.scope" | tr -d '\n')
tb_check "the registry takes the revocation of e4" tb_exec reg curl -fsS -o /dev/null \
	-H 'Content-Type: application/json' --data "{\"revocations\":\"$rl\"}" \
	http://203.0.113.10:8470/v1/revocations
tb_check "m drops the revoked e4" tb_wait_for 15 master_lacks e4
before=$(log_mark m)
attack replay events e4 m e1 e2
tb_check "m refuses the replayed document of the revoked e4" \
	log_since m "$before" 'event=document_refused peer=e4'
tb_check "m does not configure the revoked e4 again" \
	bash -c '! tail -n "+$(($2 + 1))" "$1" | grep -qE "event=peer_added peer=e4"' _ \
	"$TB_DIR/m.log" "$before"

# ---------------------------------------------------------------- (f) forged kill switch

# A kill switch signed by the other admin key, served as a kill event: every
# node logs it and stays up (the real registry would refuse to store it).
tb__run "scopectl kill sign (forged)" "$SCOPECTL" kill sign --dir "$SC_DIR/net2" --all \
	--out "$SC_DIR/forged.kill"
FORGED_KILL=$(sed '/-----/d' "$SC_DIR/forged.kill" | tr -d '\n')
before=$(log_mark m)
before_e1=$(log_mark e1)
attack forged_kill events m m e1 e2
tb_check "m logs the forged kill switch and ignores it" \
	log_since m "$before" 'event=kill_ignored from=registry'
tb_check "e1 too" log_since e1 "$before_e1" 'event=kill_ignored from=registry'
tb_check "every interface is still up after the forged kill switch" bash -c "
	for n in m e1 e2 e3; do ip -n ${TB_PREFIX}-\$n link show ${TB_PREFIX}\$n >/dev/null || exit 1; done"
tb_check "e1 still pings e2" tb_exec e1 ping -c 2 -i 0.2 -W 2 10.77.0.12

# ---------------------------------------------------------------- network intact

tb_check "the attacker still has no handshake with the master relay" mal_shut_out
tb_check "the attacker still cannot ping the overlay" mal_cannot_ping 10.77.0.12
tb_check "e2 pings e1 after the attacks" tb_exec e2 ping -c 2 -i 0.2 -W 2 10.77.0.11
kill -INT "$PING_PID"
tb_wait_pid "$PING_PID" 5 || true
stats=$(grep -E 'packets transmitted' "$TB_DIR/ping-e1e2.txt" || true)
sent=$(awk '{ print $1 }' <<<"$stats")
got=$(awk '{ print $4 }' <<<"$stats")
tb_note "e1 -> e2 during the attacks: ${stats:-no summary}"
if [[ -n $sent && -n $got ]] && ((sent >= 50 && sent - got <= 2)); then
	tb_ok "e1 pinged e2 throughout the attacks (at most 2 lost)"
else
	tb_notok "e1 pinged e2 throughout the attacks (at most 2 lost)" "${stats:-no summary}"
fi

tb_done
