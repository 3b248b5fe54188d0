#!/usr/bin/env bash
# tests/netns/wg_interop.sh — Scope's engine (`scoped wg`) against Debian's
# wireguard-go, configured with Debian's wg(8) and wg-quick(8).
#
#   a: scoped wg  (IF_A)                       b: wireguard-go  (IF_B)
#   192.0.2.10  2001:db8:1::10                 192.0.2.20  2001:db8:1::20
#   overlay 10.99.0.1/24 fd99::1/64            overlay 10.99.0.2/24 fd99::2/64
#        |                                          |
#        +------------------ [inet] ----------------+
#
# Shown: the daemon's start-up contract (socket mode, bad arguments); wg set /
# show / showconf / setconf against the engine; a handshake with either side
# initiating; ping over IPv4 and IPv6; a 200 MB TCP transfer whose SHA-256
# matches end to end while a's underlay address changes mid-transfer
# (roaming: wireguard-go follows), then while b's NAT rebinds to another
# port (the engine follows); a wrong PSK and a wrong public key get no
# connectivity; wg-quick up/down with WG_QUICK_USERSPACE_IMPLEMENTATION, after
# which the daemon is gone with its socket.
#
# Interface names carry the run's prefix: /var/run/wireguard is shared by
# every namespace, so two runs (or two hosts) must not both use "wg0".
#
# Run as root: bash tests/netns/wg_interop.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$TB_LIBDIR/../.." && pwd)
BUILD=$(realpath -m "${SCOPE_BUILD:-$REPO/build}") # absolute: links point at it
SCOPED=$BUILD/src/bin/scoped
XFER="python3 $TB_LIBDIR/tcpxfer.py"
SOCKDIR=/var/run/wireguard
XFER_BYTES=${SCOPE_XFER_BYTES:-200000000}

tb_init
tb_require wg wireguard-go wg-quick ping python3
[[ -x $SCOPED ]] || tb_die "no $SCOPED: build first (meson setup build && ninja -C build)"
ln -s "$SCOPED" "$TB_DIR/scoped-wg"

IF_A=${TB_PREFIX}a
IF_B=${TB_PREFIX}b
IF_Q=${TB_PREFIX}q
for i in "$IF_A" "$IF_B" "$IF_Q"; do
	tb_defer rm -f "$SOCKDIR/$i.sock"
done

tb_net inet
tb_host a
tb_host b
tb_attach a inet 192.0.2.10/24 2001:db8:1::10/64
tb_attach b inet 192.0.2.20/24 2001:db8:1::20/64

KA=$(wg genkey) KB=$(wg genkey) PSK=$(wg genpsk)
PA=$(wg pubkey <<<"$KA") PB=$(wg pubkey <<<"$KB")
printf '%s\n' "$KA" >"$TB_DIR/ka"
printf '%s\n' "$KB" >"$TB_DIR/kb"
printf '%s\n' "$PSK" >"$TB_DIR/psk"

# ---------------------------------------------------------------- start-up

tb_check "scoped wg refuses a missing interface name" \
	bash -c "! $SCOPED wg 2>/dev/null"
tb_check "scoped wg refuses an invalid interface name" \
	bash -c "! $SCOPED wg 'a/b' 2>/dev/null"

# Daemon mode: returns once the interface and the socket exist.
tb_exec a "$SCOPED" wg ${SCOPE_WG_ARGS:-} "$IF_A"
tb_check "daemonized scoped wg created its socket" test -S "$SOCKDIR/$IF_A.sock"
tb_check "the socket is srwx------ (root only)" \
	bash -c "[ \"\$(stat -c %A $SOCKDIR/$IF_A.sock)\" = srwx------ ]"
tb_check "the TUN interface exists in a's namespace" tb_exec a ip link show "$IF_A"
tb_check "a second scoped wg on the same name is refused" \
	bash -c "! ip netns exec $(tb_ns a) $SCOPED wg --foreground $IF_A 2>/dev/null"

tb_bg b env WG_PROCESS_FOREGROUND=1 wireguard-go "$IF_B"
tb_wait_for 10 test -S "$SOCKDIR/$IF_B.sock" || tb_die "wireguard-go did not start"
tb_wait_for 10 tb_exec b ip link show "$IF_B" || tb_die "wireguard-go made no interface"

tb_exec a ip addr add 10.99.0.1/24 dev "$IF_A"
tb_exec a ip addr add fd99::1/64 dev "$IF_A"
tb_exec b ip addr add 10.99.0.2/24 dev "$IF_B"
tb_exec b ip addr add fd99::2/64 dev "$IF_B"
tb_exec b ip link set "$IF_B" up

# ---------------------------------------------------------------- wg(8)

tb_check "wg set on the engine" tb_exec a wg set "$IF_A" private-key "$TB_DIR/ka" \
	listen-port 51820 peer "$PB" preshared-key "$TB_DIR/psk" \
	endpoint 192.0.2.20:51821 allowed-ips 10.99.0.2/32,fd99::2/128
tb_exec b wg set "$IF_B" private-key "$TB_DIR/kb" listen-port 51821 \
	peer "$PA" preshared-key "$TB_DIR/psk" allowed-ips 10.99.0.1/32,fd99::1/128

show=$(tb_exec a wg show "$IF_A")
tb_check "wg show names the peer, endpoint and allowed IPs" \
	bash -c "grep -q 'peer: $PB' <<<'$show' && grep -q 'endpoint: 192.0.2.20:51821' <<<'$show' \
		&& grep -q 'allowed ips: 10.99.0.2/32, fd99::2/128' <<<'$show' \
		&& grep -q 'listening port: 51820' <<<'$show'"
tb_exec a wg showconf "$IF_A" >"$TB_DIR/a.conf"
tb_check "wg showconf shows the configuration that was set" \
	bash -c "grep -qx 'PrivateKey = $KA' $TB_DIR/a.conf && grep -qx 'PresharedKey = $PSK' $TB_DIR/a.conf \
		&& grep -qx 'ListenPort = 51820' $TB_DIR/a.conf"
tb_exec a wg setconf "$IF_A" "$TB_DIR/a.conf"
tb_exec a wg showconf "$IF_A" >"$TB_DIR/a2.conf"
tb_check "wg setconf of showconf's output changes nothing" cmp -s "$TB_DIR/a.conf" "$TB_DIR/a2.conf"
tb_check "wg set with a bad key is refused" \
	bash -c "! ip netns exec $(tb_ns a) wg set $IF_A peer notakey 2>/dev/null"
tb_exec a wg showconf "$IF_A" >"$TB_DIR/a3.conf"
tb_check "a refused wg set changed nothing" cmp -s "$TB_DIR/a.conf" "$TB_DIR/a3.conf"

# ---------------------------------------------------------------- traffic

handshake_age() { # HOST IF PEER -> latest handshake (unix seconds, 0 never)
	tb_exec "$1" wg show "$2" latest-handshakes | awk -v p="$3" '$1 == p { print $2 }'
}

tb_check "ping IPv4, scoped initiates" tb_exec a ping -c 3 -i 0.2 -W 2 10.99.0.2
tb_check "handshake recorded on both sides" \
	bash -c "[ \"\$(ip netns exec $(tb_ns a) wg show $IF_A latest-handshakes | cut -f2)\" != 0 ]"
tb_check "ping IPv6" tb_exec a ping -6 -c 3 -i 0.2 -W 2 fd99::2

# Reset both sides' sessions by re-adding the peers; then b speaks first.
tb_exec a wg set "$IF_A" peer "$PB" remove
tb_exec b wg set "$IF_B" peer "$PA" remove
tb_exec a wg set "$IF_A" peer "$PB" preshared-key "$TB_DIR/psk" \
	allowed-ips 10.99.0.2/32,fd99::2/128
tb_exec b wg set "$IF_B" peer "$PA" preshared-key "$TB_DIR/psk" \
	endpoint 192.0.2.10:51820 allowed-ips 10.99.0.1/32,fd99::1/128
tb_check "ping IPv4, wireguard-go initiates" tb_exec b ping -c 3 -i 0.2 -W 2 10.99.0.1
tb_check "the engine learned b's endpoint from the handshake" \
	bash -c "ip netns exec $(tb_ns a) wg show $IF_A endpoints | grep -q '192.0.2.20:51821'"
tb_check "ping IPv6 from wireguard-go" tb_exec b ping -6 -c 3 -i 0.2 -W 2 fd99::1

# ---------------------------------------------------------------- 200 MB + roaming

# Move HOST's underlay address from OLD to NEW (same /24) while traffic flows.
# promote_secondaries: deleting the old (primary) address must not take the
# new (secondary) one with it.
move_addr() {
	tb_exec "$1" sysctl -qw net.ipv4.conf.inet.promote_secondaries=1
	tb_exec "$1" ip addr add "$3/24" dev inet
	tb_exec "$1" ip addr del "$2/24" dev inet
}

xfer() { # SENDER RECEIVER DEST_ADDR PORT NAME MOVE_CMD...
	local snd=$1 rcv=$2 dst=$3 port=$4 name=$5 rpid
	shift 5
	rm -f "$TB_DIR/$name.recv"
	tb_bg "$rcv" $XFER recv "$dst" "$port" "$TB_DIR/$name.recv"
	rpid=$TB_LAST_PID
	tb_bg "$snd" bash -c "$XFER send $dst $port $XFER_BYTES >$TB_DIR/$name.send"
	local spid=$TB_LAST_PID
	if (($# > 0)); then
		# Let the transfer get going, then change the address under it.
		tb_wait_for 20 bash -c "[ \$(ip netns exec $(tb_ns "$snd") cat /proc/net/snmp | \
			awk '/^Tcp: [0-9]/ { print \$12 }') -gt 20000 ]" || true
		"$@"
	fi
	tb_wait_pid "$spid" 120 || tb_note "sender ended with status $?"
	tb_wait_pid "$rpid" 30 || tb_note "receiver ended with status $?"
}

start=$(date +%s.%N)
xfer a b 10.99.0.2 5001 x1 move_addr a 192.0.2.10 192.0.2.11
end=$(date +%s.%N)
tb_check "200 MB a->b: byte count and SHA-256 match across a's address change" \
	bash -c "[ -s $TB_DIR/x1.send ] && cmp -s $TB_DIR/x1.send $TB_DIR/x1.recv"
tb_note "transfer a->b: $(awk -v s="$start" -v e="$end" -v n="$XFER_BYTES" \
	'BEGIN { printf "%.0f Mbit/s", n * 8 / (e - s) / 1e6 }')"
tb_check "wireguard-go roamed to a's new address" \
	bash -c "ip netns exec $(tb_ns b) wg show $IF_B endpoints | grep -q '192.0.2.11:51820'"

# b's NAT rebinds: its datagrams leave from port 40000 from now on (a
# stateless rewrite before conntrack, both ways), as a home router does
# when its mapping expires. wireguard-go itself does not notice; the engine
# must follow the authenticated packets to the new port.
rebind_b() {
	tb_exec b nft -f - <<EOF
table inet rebind {
	chain out { type filter hook output priority raw; udp sport 51821 udp sport set 40000; }
	chain in { type filter hook prerouting priority raw; udp dport 40000 udp dport set 51821; }
}
EOF
}
xfer a b 10.99.0.2 5002 x2 rebind_b
tb_check "200 MB a->b: SHA-256 matches across b's NAT rebinding" \
	bash -c "[ -s $TB_DIR/x2.send ] && cmp -s $TB_DIR/x2.send $TB_DIR/x2.recv"
tb_check "the engine roamed to b's new port" \
	bash -c "ip netns exec $(tb_ns a) wg show $IF_A endpoints | grep -q '192.0.2.20:40000'"

xfer b a fd99::1 5003 x3
tb_check "200 MB b->a over IPv6 inside: SHA-256 matches" \
	bash -c "[ -s $TB_DIR/x3.send ] && cmp -s $TB_DIR/x3.send $TB_DIR/x3.recv"

# ---------------------------------------------------------------- negatives

# A wrong PSK on one side: handshakes fail, no traffic.
tb_exec a wg set "$IF_A" peer "$PB" remove
wg genpsk >"$TB_DIR/psk2"
tb_exec a wg set "$IF_A" peer "$PB" preshared-key "$TB_DIR/psk2" \
	endpoint 192.0.2.20:40000 allowed-ips 10.99.0.2/32
tb_check "a wrong PSK gets no connectivity" \
	bash -c "! ip netns exec $(tb_ns a) ping -c 3 -i 0.3 -W 1 10.99.0.2 >/dev/null"
tb_check "and no handshake" bash -c "[ \"\$(ip netns exec $(tb_ns a) wg show $IF_A \
	latest-handshakes | cut -f2)\" = 0 ]"

# The right PSK but a wrong public key for b.
tb_exec a wg set "$IF_A" peer "$PB" remove
PX=$(wg genkey | wg pubkey)
tb_exec a wg set "$IF_A" peer "$PX" preshared-key "$TB_DIR/psk" \
	endpoint 192.0.2.20:40000 allowed-ips 10.99.0.2/32
tb_check "a wrong public key gets no connectivity" \
	bash -c "! ip netns exec $(tb_ns a) ping -c 3 -i 0.3 -W 1 10.99.0.2 >/dev/null"

# Back to the right key: the same tunnel works again (the negatives were real).
tb_exec a wg set "$IF_A" peer "$PX" remove
tb_exec a wg set "$IF_A" peer "$PB" preshared-key "$TB_DIR/psk" \
	endpoint 192.0.2.20:40000 allowed-ips 10.99.0.2/32
tb_check "with the right key and PSK again, ping works" \
	tb_exec a ping -c 3 -i 0.2 -W 2 10.99.0.2

# ---------------------------------------------------------------- shutdown, wg-quick

# The PID of the daemon serving interface IF in HOST's namespace.
daemon_pid() {
	local p
	for p in $(ip netns pids "$(tb_ns "$1")"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qw -- "$2" && echo "$p" && return
	done
}

pid=$(daemon_pid a "$IF_A")
tb_exec a ip link del "$IF_A"
tb_check "deleting the interface ends the daemon" tb_wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
tb_check "and removes its socket" bash -c "[ ! -e $SOCKDIR/$IF_A.sock ]"

cat >"$TB_DIR/$IF_Q.conf" <<EOF
[Interface]
PrivateKey = $KA
Address = 10.99.0.1/24
ListenPort = 51820
MTU = 1400

[Peer]
PublicKey = $PB
PresharedKey = $PSK
Endpoint = 192.0.2.20:40000
AllowedIPs = 10.99.0.2/32
EOF
chmod 600 "$TB_DIR/$IF_Q.conf"
tb_check "wg-quick up with WG_QUICK_USERSPACE_IMPLEMENTATION=scoped-wg" \
	tb_exec a env WG_QUICK_USERSPACE_IMPLEMENTATION="$TB_DIR/scoped-wg" \
	wg-quick up "$TB_DIR/$IF_Q.conf"
tb_check "wg-quick set the MTU" bash -c "ip -n $(tb_ns a) link show $IF_Q | grep -q 'mtu 1400'"
tb_check "ping through the wg-quick interface" tb_exec a ping -c 3 -i 0.2 -W 2 10.99.0.2
pid=$(daemon_pid a "$IF_Q")
tb_check "wg-quick down" tb_exec a wg-quick down "$TB_DIR/$IF_Q.conf"
tb_check "the daemon exited after wg-quick down" \
	tb_wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
tb_check "its socket is gone" bash -c "[ ! -e $SOCKDIR/$IF_Q.sock ]"

tb_done
