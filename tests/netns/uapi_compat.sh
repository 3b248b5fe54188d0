#!/usr/bin/env bash
# tests/netns/uapi_compat.sh — Scope's UAPI (src/uapi) answers like
# wireguard-go, byte for byte.
#
#   host "go" (netns <prefix>-go)                  no namespace needed
#   +----------------------------------+          +-------------------------------+
#   | wireguard-go  g<id>  (link down)  |          | uapi-replay   (stdin/stdout)  |
#   |   /var/run/wireguard/g<id>.sock   |          | uapi-replay --serve  s<id>    |
#   +----------------------------------+          |   /var/run/wireguard/s<id>.sock|
#                                                 +-------------------------------+
#
# 1. Raw protocol: a fixed sequence of set and get requests (every key, host
#    bits, IPv6 forms, remove, update_only, replace_allowed_ips,
#    replace_peers, a private key that matches a peer, refusals on a first
#    line) goes to wireguard-go, one connection per request, and through
#    uapi_handle (tests/unit/uapi/uapi_replay.c) on one fresh device. The
#    replies must be identical. The only normalisation: the peer blocks of
#    a get are sorted, as wireguard-go lists peers in Go map order. Nothing
#    is masked: Scope's device is down, and wireguard-go's handshake
#    attempts find no route out of its empty namespace, so the handshake
#    times and byte counters stay 0 on both.
#    The same requests through Scope's UAPI client (src/uapi/client.c) to
#    wireguard-go: the same bytes, and every get reply parses.
# 2. wg(8) against both sockets: setconf, set, syncconf; `wg show dump`
#    must agree (peer lines sorted, same reason).
# Negative cases: a request bad on its second line, which wireguard-go
# applies halfway and Scope refuses whole (the documented difference, shown
# on both); a line without '=' (-EPROTO on both); once the Scope server is
# stopped its socket is gone and wg fails.
#
# Skips (TAP "# SKIP") without wireguard-go or wg.
# Run as root: bash tests/netns/uapi_compat.sh   (SCOPE_BUILD: build directory)
set -euo pipefail

if ! command -v wireguard-go >/dev/null || ! command -v wg >/dev/null; then
	echo "1..0 # SKIP wireguard-go or wg not installed (Debian: wireguard-go wireguard-tools)"
	exit 0
fi

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$TB_LIBDIR/../.." && pwd)
BUILD=$(realpath -m "${SCOPE_BUILD:-$REPO/build}") # absolute: links point at it
REPLAY=${UAPI_REPLAY:-$BUILD/tests/uapi-replay}
SOCKDIR=/var/run/wireguard

tb_init
tb_require python3 timeout
[[ -x $REPLAY ]] || tb_die "no $REPLAY: build first (meson setup build && ninja -C build)"

# /var/run/wireguard is shared by every namespace: names carry the run's id.
IF_GO=g${TB_PREFIX#s}
IF_SC=s${TB_PREFIX#s}
tb_defer rm -f "$SOCKDIR/$IF_GO.sock" "$SOCKDIR/$IF_SC.sock"

tb_host go
tb_bg go env WG_PROCESS_FOREGROUND=1 wireguard-go "$IF_GO" >"$TB_DIR/go.log" 2>&1
tb_wait_for 10 test -S "$SOCKDIR/$IF_GO.sock" || tb_die "wireguard-go did not start"

# ---------------------------------------------------------------- helpers

# uapi SOCKET < request: one connection, the reply on stdout (empty if the
# server closes without one).
uapi()
{
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
out = b""
while not (out.endswith(b"\n\n") and b"errno=" in out):
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)
' "$1"
}

# Sort the peer blocks of get replies (and nothing else).
normalize()
{
	python3 -c '
import sys
out = []
for reply in sys.stdin.read().split("\n\n"):
    lines = reply.split("\n") if reply else []
    head, blocks, tail = [], [], []
    for l in lines:
        if l.startswith("errno="):
            tail.append(l)
        elif l.startswith("public_key="):
            blocks.append([l])
        elif blocks:
            blocks[-1].append(l)
        else:
            head.append(l)
    blocks.sort()
    out.append("\n".join(head + [x for b in blocks for x in b] + tail))
sys.stdout.write("\n\n".join(out))
'
}

b64hex()
{
	python3 -c 'import base64, sys; print(base64.b64decode(sys.argv[1]).hex())' "$1"
}

# ---------------------------------------------------------------- requests

# Fixed keys; C's is the public key of PRIV2, which request 8 installs.
PRIV1=e8c2f3a6d1b4e7f0a3d6c9b2e5f8a1d4c7b0e3f6a9d2c5b8e1f4a7d0c3b6e94f
PRIV2_B64=$(python3 -c 'import base64; print(base64.b64encode(bytes(range(64, 96))).decode())')
PRIV2=$(b64hex "$PRIV2_B64")
A=$(printf 'a1%.0s' {1..32})
B=$(printf 'b2%.0s' {1..32})
C=$(b64hex "$(wg pubkey <<<"$PRIV2_B64")")
D=$(printf 'd4%.0s' {1..32})
E=$(printf 'e5%.0s' {1..32})
PSK=$(printf '5a%.0s' {1..32})
Z=$(printf '0%.0s' {1..64})

R=$TB_DIR/req
mkdir -p "$R"
printf 'set=1\nprivate_key=%s\nlisten_port=51820\nfwmark=4660\nreplace_peers=true\npublic_key=%s\npreshared_key=%s\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\nallowed_ip=10.0.0.0/24\nallowed_ip=10.1.2.3/16\nallowed_ip=2001:db8:a::/48\nallowed_ip=::1.2.3.4/128\nprotocol_version=1\npublic_key=%s\nendpoint=[2001:DB8::2]:443\nallowed_ip=10.0.1.7/32\nallowed_ip=::ffff:10.0.0.0/104\nallowed_ip=fd00:0:0:0:1:0:0:1/128\nallowed_ip=2001:db8:0:0:1::/80\npublic_key=%s\nallowed_ip=192.168.0.0/16\nallowed_ip=::/0\npersistent_keepalive_interval=0\n\n' \
	"$PRIV1" "$A" "$PSK" "$B" "$C" >"$R/01"
printf 'get=1\n\n' >"$R/02"
printf 'set=1\npublic_key=%s\nremove=true\npublic_key=%s\nreplace_allowed_ips=true\nallowed_ip=10.9.0.0/16\npreshared_key=%s\nendpoint=[fe80::1]:7\npublic_key=%s\nallowed_ip=10.8.0.0/16\nupdate_only=true\npublic_key=%s\nendpoint=198.51.100.9:9\npersistent_keepalive_interval=1\nallowed_ip=10.9.0.0/16\nallowed_ip=10.1.0.0/16\n\n' \
	"$A" "$B" "$PSK" "$D" "$C" >"$R/03"
printf 'get=1\n\n' >"$R/04"
printf 'set=1\nlisten_port=99999\n\n' >"$R/05"
printf 'set=1\nbogus\n\n' >"$R/06"
printf 'set=1\npublic_key=%s\nallowed_ip=10.0.0.1/33\n\n' "$C" >"$R/07"
printf 'get=1\n\n' >"$R/08"
printf 'set=1\nprivate_key=%s\n\n' "$PRIV2" >"$R/09"
printf 'get=1\n\n' >"$R/10"
printf 'set=1\nreplace_peers=true\nprivate_key=%s\npublic_key=%s\nendpoint=203.0.113.5:65535\nallowed_ip=0.0.0.0/0\n\n' \
	"$Z" "$E" >"$R/11"
printf 'get=1\n\n' >"$R/12"

# ---------------------------------------------------------------- 1: raw protocol

: >"$TB_DIR/go.out"
for f in "$R"/*; do
	uapi "$SOCKDIR/$IF_GO.sock" <"$f" >>"$TB_DIR/go.out"
done
cat "$R"/* | "$REPLAY" >"$TB_DIR/sc.out"
normalize <"$TB_DIR/go.out" >"$TB_DIR/go.norm"
normalize <"$TB_DIR/sc.out" >"$TB_DIR/sc.norm"
if cmp -s "$TB_DIR/go.norm" "$TB_DIR/sc.norm"; then
	tb_ok "12 requests: Scope's replies equal wireguard-go's byte for byte ($(wc -c <"$TB_DIR/sc.out") bytes)"
else
	tb_notok "12 requests: Scope's replies equal wireguard-go's byte for byte" \
		"$(diff "$TB_DIR/go.norm" "$TB_DIR/sc.norm" | head -40 | tr '\n' '|')"
fi
# The same requests again through Scope's UAPI client (src/uapi/client.c),
# which must read the same bytes and parse every get wireguard-go answers.
if cat "$R"/* | "$REPLAY" --client "$SOCKDIR/$IF_GO.sock" >"$TB_DIR/client.out" 2>"$TB_DIR/client.err" &&
	normalize <"$TB_DIR/client.out" | cmp -s - "$TB_DIR/go.norm"; then
	tb_ok "Scope's UAPI client reads wireguard-go's replies whole and parses its gets"
else
	tb_notok "Scope's UAPI client reads wireguard-go's replies whole and parses its gets" \
		"$(cat "$TB_DIR/client.err")"
fi
tb_check "the exchange was not trivial (peers, IPv6, both PSK forms, refusals)" \
	bash -c "grep -q 'allowed_ip=fd00::1:0:0:1/128' $TB_DIR/sc.out &&
		grep -q 'allowed_ip=::102:304/128' $TB_DIR/sc.out &&
		grep -q 'preshared_key=$PSK' $TB_DIR/sc.out &&
		grep -q 'errno=-22' $TB_DIR/sc.out && grep -q 'errno=-71' $TB_DIR/sc.out"

# Negative: bad on its second line. wireguard-go applies the first line and
# stops; Scope refuses everything. Both answer -22.
printf 'set=1\nfwmark=7\nlisten_port=99999\n\n' >"$TB_DIR/partial"
uapi "$SOCKDIR/$IF_GO.sock" <"$TB_DIR/partial" >"$TB_DIR/go.partial"
uapi "$SOCKDIR/$IF_GO.sock" <"$R/12" >>"$TB_DIR/go.partial"
# Scope: the same stream plus the bad request and one more get; what is
# past the first run's output is the bad request's reply and that get.
cat "$R"/* "$TB_DIR/partial" "$R/12" | "$REPLAY" | tail -c +"$(($(wc -c <"$TB_DIR/sc.out") + 1))" \
	>"$TB_DIR/sc.partial"
cat "$R"/0* "$R/10" "$R/11" | "$REPLAY" >"$TB_DIR/sc.upto11"
tail -c +"$(($(wc -c <"$TB_DIR/sc.upto11") + 1))" "$TB_DIR/sc.out" >"$TB_DIR/sc.get12"
tb_check "a request bad on its second line: both answer errno=-22" \
	bash -c "head -c 11 $TB_DIR/go.partial | grep -qx 'errno=-22' &&
		head -c 11 $TB_DIR/sc.partial | grep -qx 'errno=-22'"
tb_check "... wireguard-go applied its first line (fwmark=7)" grep -qx 'fwmark=7' "$TB_DIR/go.partial"
tb_check "... Scope applied nothing: its get is byte-identical to the one before" \
	bash -c "tail -c +12 $TB_DIR/sc.partial | cmp -s - $TB_DIR/sc.get12 && grep -q public_key= $TB_DIR/sc.get12"

# ---------------------------------------------------------------- 2: wg(8)

tb_bg go "$REPLAY" --serve "$SOCKDIR" "$IF_SC" >"$TB_DIR/serve.log" 2>&1
SERVER=$TB_LAST_PID
tb_wait_for 10 test -S "$SOCKDIR/$IF_SC.sock" || tb_die "uapi-replay --serve did not start: $(cat "$TB_DIR/serve.log")"
tb_check "Scope's socket is srwx------ like wireguard-go's" \
	bash -c "[ \"\$(stat -c %A $SOCKDIR/$IF_SC.sock)\" = \"\$(stat -c %A $SOCKDIR/$IF_GO.sock)\" ] &&
		[ \"\$(stat -c %A $SOCKDIR/$IF_SC.sock)\" = srwx------ ]"

K1=$(wg genkey) K2=$(wg genkey) K3=$(wg genkey) PK=$(wg genpsk)
cat >"$TB_DIR/conf1" <<EOF
[Interface]
PrivateKey = $K1
ListenPort = 51821
FwMark = 0x99

[Peer]
PublicKey = $(wg pubkey <<<"$K2")
PresharedKey = $PK
Endpoint = 192.0.2.7:51820
AllowedIPs = 10.20.0.0/16, fd20::/64
PersistentKeepalive = 15

[Peer]
PublicKey = $(wg pubkey <<<"$K3")
Endpoint = [2001:db8::7]:1234
AllowedIPs = 10.30.0.1/32
EOF
cat >"$TB_DIR/conf2" <<EOF
[Interface]
PrivateKey = $K1
ListenPort = 51822

[Peer]
PublicKey = $(wg pubkey <<<"$K3")
AllowedIPs = 10.30.0.0/24, 10.31.0.0/24
EOF

# wg show dump with the peer lines sorted.
dump()
{
	local out
	out=$(wg show "$1" dump) || return 1
	head -n1 <<<"$out"
	tail -n +2 <<<"$out" | sort
}

same_dump()
{
	local what=$1 a b
	a=$(dump "$IF_GO") b=$(dump "$IF_SC") || {
		tb_notok "$what: wg show dump agrees" "wg show failed"
		return
	}
	if [[ $a == "$b" ]]; then
		tb_ok "$what: wg show dump agrees ($(wc -l <<<"$b") lines)"
	else
		tb_notok "$what: wg show dump agrees" "$(diff <(echo "$a") <(echo "$b") | tr '\n' '|')"
	fi
}

for i in "$IF_GO" "$IF_SC"; do wg setconf "$i" "$TB_DIR/conf1"; done
same_dump "wg setconf"
for i in "$IF_GO" "$IF_SC"; do
	wg set "$i" peer "$(wg pubkey <<<"$K2")" allowed-ips 10.21.0.0/16 endpoint 198.51.100.1:1 \
		peer "$(wg pubkey <<<"$K3")" remove
done
same_dump "wg set (change a peer, remove another)"
for i in "$IF_GO" "$IF_SC"; do wg syncconf "$i" "$TB_DIR/conf2"; done
same_dump "wg syncconf"
tb_check "wg showconf works against Scope" bash -c "wg showconf $IF_SC | grep -q 'ListenPort = 51822'"

# Negative: stopped, the socket is gone and wg cannot reach the interface.
tb_kill "$SERVER"
tb_check "the stopped server unlinked its socket" test ! -e "$SOCKDIR/$IF_SC.sock"
tb_check "wg show fails once the server is gone" bash -c "! wg show $IF_SC >/dev/null 2>&1"

tb_done
