# shellcheck shell=bash
# tests/netns/lib_scope.sh — a Scope network on the test bed (tests/netns/lib.sh):
# network definition, certificates, configs, registry and nodes. Source it
# after lib.sh and tb_init. Used by the star tests and by tools/demo.sh.
#
#   sc_keys NAME                 identity and WireGuard keys of node NAME
#   sc_network NAME V4 V6 URL MASTER MASTER_EP
#                                scopectl init; MASTER's keys must exist;
#                                $SC_NET_ARGS: more scopectl init arguments
#   sc_node NAME ROLE ADDR4 ADDR6 [scopectl cert issue args...]
#                                certificate + config $SC_DIR/NAME.conf
#   sc_registry HOST LISTEN      scope-registry in HOST, waits until it answers
#   sc_start HOST NAME           scoped run NAME.conf in HOST (background)
#   sc_stop NAME                 SIGTERM the node, wait for it
#   sc_status HOST NAME          scopectl status of the node
#   sc_scope_keys NAME LINE...   add lines to the [Scope] section of NAME.conf
#   sc_start_logged HOST NAME    sc_start with info logs in $TB_DIR/NAME.log
#   sc_status_json NAME          scopectl status --json of a started node
#
# Binaries come from $SCOPE_BUILD (default: the repo's build/).

SC_REPO=$(cd "$TB_LIBDIR/../.." && pwd)
SC_BUILD=$(realpath -m "${SCOPE_BUILD:-$SC_REPO/build}")
SCOPECTL=$SC_BUILD/src/bin/scopectl
SCOPED=$SC_BUILD/src/bin/scoped
SCOPE_REGISTRY=$SC_BUILD/src/bin/scope-registry
SC_DIR=""
SC_NET=""
SC_REG_PID=""
declare -gA SC_PID=()	# node name -> scoped PID
declare -gA SC_HOST=()	# node name -> host

sc__init() {
	[[ -n $SC_DIR ]] && return 0
	local b
	for b in "$SCOPECTL" "$SCOPED" "$SCOPE_REGISTRY"; do
		[[ -x $b ]] || tb_die "no $b: build first (meson setup build && ninja -C build)"
	done
	SC_DIR=$TB_DIR/scope
	mkdir -p -m 0700 "$SC_DIR"
}

sc_keys() {
	local n=$1
	sc__init
	(umask 077 && "$SCOPECTL" genid >"$SC_DIR/$n.id" && "$SCOPECTL" genkey >"$SC_DIR/$n.wg")
	"$SCOPECTL" idpub <"$SC_DIR/$n.id" >"$SC_DIR/$n.idpub"
	"$SCOPECTL" pubkey <"$SC_DIR/$n.wg" >"$SC_DIR/$n.wgpub"
}

sc_network() {
	local name=$1 v4=$2 v6=$3 url=$4 master=$5 mep=$6
	sc__init
	SC_NET=$name
	tb__run "scopectl init" "$SCOPECTL" init "$SC_DIR/net" --name "$name" --ipv4 "$v4" --ipv6 "$v6" \
		--registry "$url" --master "$master,$(cat "$SC_DIR/$master.wgpub"),$mep" \
		${SC_NET_ARGS:-}
}

sc_node() {
	local n=$1 role=$2 a4=$3 a6=$4
	shift 4
	[[ -f $SC_DIR/$n.id ]] || sc_keys "$n"
	tb__run "scopectl cert issue" "$SCOPECTL" cert issue --dir "$SC_DIR/net" --name "$n" \
		--identity "$(cat "$SC_DIR/$n.idpub")" --wg "$(cat "$SC_DIR/$n.wgpub")" \
		--ipv4 "$a4" --ipv6 "$a6" --roles "$role" --out "$SC_DIR/$n.cert" "$@"
	local port=0
	[[ $role == edge ]] || port=51820
	cat >"$SC_DIR/$n.conf" <<EOF
# node $n of network $SC_NET (written by tests/netns/lib_scope.sh)
[Scope]
Network = $SC_DIR/net/network.scope
AdminKey = $(cat "$SC_DIR/net/admin.pub")
Certificate = $SC_DIR/$n.cert
IdentityKey = $SC_DIR/$n.id
Role = $role
StateDirectory = $SC_DIR/state-$n

[Interface]
# Per-node names: /run/scope (control sockets) is shared by all namespaces.
Name = $TB_PREFIX$n
PrivateKeyFile = $SC_DIR/$n.wg
ListenPort = $port
PersistentKeepalive = 5
EOF
	chmod 600 "$SC_DIR/$n.conf"
}

sc_registry() {
	local h=$1 listen=$2
	tb_bg "$h" "$SCOPE_REGISTRY" --foreground --network "$SC_DIR/net/network.scope" \
		--listen "$listen" --db "$SC_DIR/registry.db" --stun off
	SC_REG_PID=$TB_LAST_PID
	tb_wait_for 10 tb_exec "$h" curl -fsS -o /dev/null "http://$listen/healthz" ||
		tb_die "scope-registry did not start on $listen"
}

sc_start() {
	local h=$1 n=$2
	SC_HOST[$n]=$h
	tb_bg "$h" "$SCOPED" run "$SC_DIR/$n.conf"
	SC_PID[$n]=$TB_LAST_PID
}

sc_stop() {
	local n=$1
	[[ -n ${SC_PID[$n]:-} ]] || return 0
	tb_kill "${SC_PID[$n]}"
	SC_PID[$n]=""
}

sc_scope_keys() {
	local f=$SC_DIR/$1.conf line
	shift
	for line in "$@"; do
		sed -i "/^\[Scope\]\$/a $line" "$f"
	done
}

sc_start_logged() {
	local h=$1 n=$2
	SC_HOST[$n]=$h
	tb_bg "$h" env SCOPE_VERBOSE=1 "$SCOPED" run "$SC_DIR/$n.conf" 2>"$TB_DIR/$n.log"
	SC_PID[$n]=$TB_LAST_PID
}

sc_status_json() {
	tb_exec "${SC_HOST[$1]}" "$SCOPECTL" status --json --interface "$TB_PREFIX$1"
}

sc_status() {
	tb_exec "$1" "$SCOPECTL" status --interface "$TB_PREFIX$2"
}

# The star of tests/netns/star.sh and tools/demo.sh:
#   reg 203.0.113.10, m 203.0.113.1 (master relay), on [inet] 203.0.113.0/24;
#   e1 10.1.0.2 behind nat1 (full cone, 203.0.113.21),
#   e2 10.2.0.2 behind nat2 (symmetric, 203.0.113.22), e3 203.0.113.33;
#   overlay 10.77.0.0/24 and fd77::/64, node eN at .1N, m at .1.
sc_star_underlay() {
	tb_net inet
	tb_net lan1
	tb_net lan2
	tb_host reg
	tb_attach reg inet 203.0.113.10/24
	tb_host m
	tb_attach m inet 203.0.113.1/24
	tb_nat nat1 fullcone lan1 10.1.0.1/24 inet 203.0.113.21/24
	tb_nat nat2 symmetric lan2 10.2.0.1/24 inet 203.0.113.22/24
	tb_host e1
	tb_attach e1 lan1 10.1.0.2/24
	tb_default e1 10.1.0.1
	tb_host e2
	tb_attach e2 lan2 10.2.0.2/24
	tb_default e2 10.2.0.1
	tb_host e3
	tb_attach e3 inet 203.0.113.33/24
}

# Network "demo" with its registry at reg, master m and edges e1..e3 (plus
# any extra edge names given, numbered on: e4 -> .14).
sc_star_network() {
	local n
	sc_keys m
	sc_network demo 10.77.0.0/24 fd77::/64 http://203.0.113.10:8470 m 203.0.113.1:51820
	sc_node m master 10.77.0.1 fd77::1
	for n in e1 e2 e3 "$@"; do
		sc_node "$n" edge "10.77.0.1${n#e}" "fd77::1${n#e}"
	done
}

# Wait up to 10 s until node NAME (in host NAME) reports the registry reachable.
sc_wait_registry() {
	tb_wait_for 10 bash -c "ip netns exec $(tb_ns "$1") $SCOPECTL status --json \
		--interface $TB_PREFIX$1 2>/dev/null | grep -q '\"reachable\": *true'"
}

# Milliseconds from START (date +%s%N) to the first reply of pings from node
# HOST (also its name) to DEST every 20 ms; empty if none within 20 s.
# Waits first for HOST's overlay address (ping gives up at once without a
# route).
sc_first_ping() {
	local h=$1 dst=$2 start=$3 first
	tb_wait_for 10 bash -c "ip -n $(tb_ns "$h") addr show dev $TB_PREFIX$h 2>/dev/null |
		grep -q 'inet '" || return 0
	first=$(tb_exec "$h" ping -D -n -i 0.02 -c 1 -w 20 "$dst" 2>/dev/null |
		awk -F'[][]' '/bytes from/ { print $2; exit }' || true)
	[[ -n $first ]] || return 0
	awk -v f="$first" -v s="$start" 'BEGIN { printf "%.0f\n", (f - s / 1e9) * 1000 }'
}
