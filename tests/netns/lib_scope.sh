# shellcheck shell=bash
# tests/netns/lib_scope.sh — a Scope network on the test bed (tests/netns/lib.sh):
# network definition, certificates, configs, registry and nodes. Source it
# after lib.sh and tb_init. Used by the star tests and by tools/demo.sh.
#
#   sc_keys NAME                 identity and WireGuard keys of node NAME
#   sc_network NAME V4 V6 URL MASTER MASTER_EP
#                                scopectl init; MASTER's keys must exist
#   sc_node NAME ROLE ADDR4 ADDR6 [scopectl cert issue args...]
#                                certificate + config $SC_DIR/NAME.conf
#   sc_registry HOST LISTEN      scope-registry in HOST, waits until it answers
#   sc_start HOST NAME           scoped run NAME.conf in HOST (background)
#   sc_stop NAME                 SIGTERM the node, wait for it
#   sc_status HOST NAME          scopectl status of the node
#
# Binaries come from $SCOPE_BUILD (default: the repo's build/).

SC_REPO=$(cd "$TB_LIBDIR/../.." && pwd)
SC_BUILD=${SCOPE_BUILD:-$SC_REPO/build}
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
		--registry "$url" --master "$master,$(cat "$SC_DIR/$master.wgpub"),$mep"
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

sc_status() {
	tb_exec "$1" "$SCOPECTL" status --interface "$TB_PREFIX$2"
}
