# shellcheck shell=bash
# tests/netns/lib_pskonly.sh — what the PSK-only tests share (issue 7,
# docs/pskonly.md): two Debian wireguard-go interfaces configured by wg(8),
# alpha in a (192.0.2.10, overlay 10.66.0.1) and bravo in b (192.0.2.20,
# overlay 10.66.0.2), and scoped configs that only rotate their PSKs.
# Source after lib.sh and lib_scope.sh, after tb_init.
#
#   pso_init                  SOCKDIR, IF_A, IF_B; the segment, hosts a, b
#   pso_network REGISTRY      network "pq" with alpha and bravo (edges); a
#                             master relay only because a network needs one
#   pso_conf NODE PEER IF REGISTRY [PEER_CERT] [LINE...]
#                             PSK-only config of NODE (Backend = uapi);
#                             REGISTRY "off" or a URL; LINEs go to [Scope]
#   pso_wireguard_go          both interfaces up with the admin's classical
#                             PSK ($TB_DIR/psk0, $PSK0), peers PA and PB,
#                             and a ping check
#   psk_of HOST IF PEER       the interface's PSK for PEER (base64)
#   handshake_of HOST IF PEER its latest handshake, Unix seconds
#   status_json HOST IF       scopectl status --json of that interface
#   peer_field JSON FIELD     one field of the listed peer

pso_init() {
	SOCKDIR=/var/run/wireguard
	IF_A=${TB_PREFIX}a
	IF_B=${TB_PREFIX}b
	local i
	for i in "$IF_A" "$IF_B"; do
		tb_defer rm -f "$SOCKDIR/$i.sock"
	done
	tb_net inet
	tb_host a
	tb_host b
	tb_attach a inet 192.0.2.10/24
	tb_attach b inet 192.0.2.20/24
}

pso_network() {
	sc_keys m
	sc_network pq 10.66.0.0/24 fd66::/64 "$1" m 192.0.2.99:51820
	sc_node alpha edge 10.66.0.1 fd66::1
	sc_node bravo edge 10.66.0.2 fd66::2
}

pso_conf() {
	local node=$1 peer=$2 ifname=$3 registry=$4 peer_cert=${5:-$SC_DIR/$2.cert} line
	shift 5 || shift $#
	{
		cat <<EOF
# PSK-only node $node (tests/netns/lib_pskonly.sh)
[Scope]
Network = $SC_DIR/net/network.scope
AdminKey = $(cat "$SC_DIR/net/admin.pub")
Certificate = $SC_DIR/$node.cert
IdentityKey = $SC_DIR/$node.id
Role = edge
StateDirectory = $SC_DIR/state-$node
Backend = uapi
Registry = $registry
TestOnlyPskPeriod = 8
TestOnlyPskActivation = 2
EOF
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		cat <<EOF

[Interface]
Name = $ifname

[Peer]
Certificate = $peer_cert
EOF
	} >"$SC_DIR/$node.conf"
	chmod 600 "$SC_DIR/$node.conf"
}

pso_wireguard_go() {
	tb_bg a env WG_PROCESS_FOREGROUND=1 wireguard-go "$IF_A"
	tb_bg b env WG_PROCESS_FOREGROUND=1 wireguard-go "$IF_B"
	tb_wait_for 10 test -S "$SOCKDIR/$IF_A.sock" || tb_die "wireguard-go did not start in a"
	tb_wait_for 10 test -S "$SOCKDIR/$IF_B.sock" || tb_die "wireguard-go did not start in b"
	tb_wait_for 10 tb_exec a ip link show "$IF_A" >/dev/null || tb_die "no $IF_A"
	tb_wait_for 10 tb_exec b ip link show "$IF_B" >/dev/null || tb_die "no $IF_B"

	PA=$(cat "$SC_DIR/alpha.wgpub") PB=$(cat "$SC_DIR/bravo.wgpub")
	PSK0=$(wg genpsk)
	printf '%s\n' "$PSK0" >"$TB_DIR/psk0"
	chmod 600 "$TB_DIR/psk0"
	tb_exec a wg set "$IF_A" private-key "$SC_DIR/alpha.wg" listen-port 51820 \
		peer "$PB" preshared-key "$TB_DIR/psk0" endpoint 192.0.2.20:51820 \
		allowed-ips 10.66.0.2/32
	tb_exec b wg set "$IF_B" private-key "$SC_DIR/bravo.wg" listen-port 51820 \
		peer "$PA" preshared-key "$TB_DIR/psk0" endpoint 192.0.2.10:51820 \
		allowed-ips 10.66.0.1/32
	tb_exec a ip addr add 10.66.0.1/24 dev "$IF_A"
	tb_exec b ip addr add 10.66.0.2/24 dev "$IF_B"
	tb_exec a ip link set "$IF_A" up
	tb_exec b ip link set "$IF_B" up
	tb_check "the tunnel works with the admin's classical PSK" \
		tb_exec a ping -c 2 -i 0.2 -W 2 10.66.0.2
}

psk_of() {
	tb_exec "$1" wg show "$2" preshared-keys | awk -v p="$3" '$1 == p { print $2 }'
}

handshake_of() {
	tb_exec "$1" wg show "$2" latest-handshakes | awk -v p="$3" '$1 == p { print $2 }'
}

status_json() {
	tb_exec "$1" "$SCOPECTL" status --json --interface "$2" 2>/dev/null
}

peer_field() {
	jq -r --arg f "$2" '.peers[0][$f] // "null"' <<<"$1"
}
