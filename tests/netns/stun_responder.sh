#!/usr/bin/env bash
# tests/netns/stun_responder.sh — the registry's STUN responder
# (src/registry/stun_server.c) answers a real third-party client, Debian's
# `stun` (stun-client, RFC 3489), and an RFC 8489 client, through NATs.
#
#   in-rc 10.9.0.2 --[lan-rc]-- nat-rc (restricted) 10.9.0.1 | 203.0.113.1 --+
#   in-sy 10.8.0.2 --[lan-sy]-- nat-sy (symmetric)  10.8.0.1 | 203.0.113.2 --+
#                                                                            |
#   [inet] 203.0.113.0/24, 2001:db8:0:1::/64 ---------------------------------+
#      |                                   |
#   reg 203.0.113.10, 2001:db8:0:1::10     out 203.0.113.20, 2001:db8:0:1::20
#   stun-serve on [::]:3478 (dual-stack)   (no NAT)
#
# Checks: the mapped address each client is told is the NAT's outside
# address (or the host's own, without NAT, port included), over IPv4 and
# IPv6; the old client's NAT test classifies the restricted NAT correctly
# (the one-address server stays silent when asked to answer from elsewhere).
# Negative cases: junk gets no answer; once the responder is stopped the
# client learns nothing; the counters match what was sent.
#
# Run as root after building: bash tests/netns/stun_responder.sh
# (STUN_SERVE=path overrides build/tests/stun-serve.)
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(cd "$TB_LIBDIR/../.." && pwd)
STUN_SERVE=${STUN_SERVE:-$ROOT/build/tests/stun-serve}
[[ -x $STUN_SERVE ]] || {
	echo "stun_responder.sh: $STUN_SERVE not built (meson setup build && ninja -C build)" >&2
	exit 1
}

tb_init
tb_require stun python3 timeout

PORT=3478

# ---------------------------------------------------------------- topology

tb_net inet
tb_host reg
tb_attach reg inet 203.0.113.10/24 2001:db8:0:1::10/64
tb_host out
tb_attach out inet 203.0.113.20/24 2001:db8:0:1::20/64

tb_net lan-rc
tb_nat nat-rc restricted lan-rc 10.9.0.1/24 inet 203.0.113.1/24
tb_host in-rc
tb_attach in-rc lan-rc 10.9.0.2/24
tb_default in-rc 10.9.0.1

tb_net lan-sy
tb_nat nat-sy symmetric lan-sy 10.8.0.1/24 inet 203.0.113.2/24
tb_host in-sy
tb_attach in-sy lan-sy 10.8.0.2/24
tb_default in-sy 10.8.0.1

REG4=$(tb_addr reg inet)
REG6=$(tb_addr reg inet 6)

# ---------------------------------------------------------------- helpers

# An independent RFC 8489 Binding client (Python, not Scope's C code):
#   stunc.py HOST PORT [SRCPORT]  -> "mapped IP PORT" or "noreply"
#   stunc.py --junk HOST PORT     -> sends 64 bytes of junk, "reply" or "noreply"
cat >"$TB_DIR/stunc.py" <<'EOF'
import os, socket, struct, sys, zlib
junk = sys.argv[1] == "--junk"
args = sys.argv[2:] if junk else sys.argv[1:]
host, port = args[0], int(args[1])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if len(args) > 2:
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", int(args[2])))
s.settimeout(1.5)
tid = os.urandom(12)
msg = struct.pack(">HHI", 1, 0, 0x2112A442) + tid
if junk:
    msg = b"\x01" + os.urandom(63)
s.sendto(msg, (host, port))
try:
    data = s.recv(2048)
except socket.timeout:
    print("noreply")
    sys.exit(0)
if junk:
    print("reply")
    sys.exit(0)
typ, length, cookie = struct.unpack(">HHI", data[:8])
assert typ == 0x0101 and cookie == 0x2112A442 and data[8:20] == tid, "not our success"
assert length + 20 == len(data)
off, mapped, fp = 20, None, False
while off < len(data):
    t, n = struct.unpack(">HH", data[off:off + 4])
    v = data[off + 4:off + 4 + n]
    if t == 0x0020 and mapped is None:
        p = struct.unpack(">H", v[2:4])[0] ^ 0x2112
        pad = struct.pack(">I", 0x2112A442) + tid
        raw = bytes(a ^ b for a, b in zip(v[4:], pad))
        f = socket.AF_INET if v[1] == 1 else socket.AF_INET6
        mapped = (socket.inet_ntop(f, raw), p)
    if t == 0x8028:
        crc = (zlib.crc32(data[:off]) ^ 0x5354554E) & 0xFFFFFFFF
        assert struct.unpack(">I", v)[0] == crc, "bad FINGERPRINT"
        fp = True
    off += 4 + (n + 3) // 4 * 4
assert fp, "no FINGERPRINT"
print("mapped", mapped[0], mapped[1])
EOF

# old_client HOST SRCPORT: what Debian's stun client says the mapping is
# (nothing if it got no answer: it then retries until the timeout).
old_client()
{
	{ tb_exec "$1" timeout 5 stun "$REG4:$PORT" 1 -v -p "$2" 2>&1 || true; } |
		awk -F= '/mappedAddr=/ { print $2; exit }'
}

# ---------------------------------------------------------------- tests

tb_bg reg "$STUN_SERVE" "" "$PORT" 120 >"$TB_DIR/serve.log" 2>&1
SERVE=$TB_LAST_PID
tb_wait_for 5 grep -q '^listening' "$TB_DIR/serve.log" ||
	tb_die "stun-serve did not start: $(cat "$TB_DIR/serve.log")"
tb_ok "the responder listens on [::]:$PORT in reg"

m=$(old_client out 41000)
tb_note "stun (RFC 3489) from out: mapped $m"
if [[ $m == "203.0.113.20:41000" ]]; then
	tb_ok "stun client without NAT is told its own address and port"
else
	tb_notok "stun client without NAT is told its own address and port" "got '$m'"
fi

for nat in rc sy; do
	want=$(tb_addr "nat-$nat" inet)
	m=$(old_client "in-$nat" 40000)
	tb_note "stun (RFC 3489) from in-$nat: mapped $m"
	if [[ ${m%:*} == "$want" && ${m#*:} =~ ^[0-9]+$ ]]; then
		tb_ok "stun client behind nat-$nat is told the NAT's public address $want"
	else
		tb_notok "stun client behind nat-$nat is told the NAT's public address $want" "got '$m'"
	fi
	r=$(tb_exec "in-$nat" python3 "$TB_DIR/stunc.py" "$REG4" "$PORT")
	tb_note "RFC 8489 client from in-$nat: $r"
	if [[ $r == "mapped $want "* ]]; then
		tb_ok "RFC 8489 client behind nat-$nat gets XOR-MAPPED-ADDRESS $want with FINGERPRINT"
	else
		tb_notok "RFC 8489 client behind nat-$nat gets XOR-MAPPED-ADDRESS $want with FINGERPRINT" "got '$r'"
	fi
done

r=$(tb_exec out python3 "$TB_DIR/stunc.py" "$REG6" "$PORT" 42000)
if [[ $r == "mapped 2001:db8:0:1::20 42000" ]]; then
	tb_ok "RFC 8489 client over IPv6 is told [2001:db8:0:1::20]:42000"
else
	tb_notok "RFC 8489 client over IPv6 is told [2001:db8:0:1::20]:42000" "got '$r'"
fi

# The old client's full NAT test asks for answers from another address and
# another port. A one-address server must stay silent: any answer makes the
# client believe the NAT let in a datagram from elsewhere, and it would call
# nat-rc's port-restricted filtering "Independent" (or the host "Open").
nattest=$(tb_exec in-rc timeout 30 stun "$REG4:$PORT" -v 2>&1 | grep -E '^Primary:' || true)
tb_note "stun NAT test from in-rc: ${nattest:-no verdict}"
if [[ $nattest == *"Independent Mapping"* && $nattest == *"Port Dependent Filter"* ]]; then
	tb_ok "stun's NAT test classifies nat-rc right: independent mapping, port-dependent filter"
else
	tb_notok "stun's NAT test classifies nat-rc right: independent mapping, port-dependent filter" \
		"verdict '$nattest'"
fi

r=$(tb_exec out python3 "$TB_DIR/stunc.py" --junk "$REG4" "$PORT")
if [[ $r == noreply ]]; then
	tb_ok "junk datagram gets no reply"
else
	tb_notok "junk datagram gets no reply" "got '$r'"
fi

tb_kill "$SERVE"
stats=$(grep '^stats' "$TB_DIR/serve.log" || true)
tb_note "responder $stats"
# Successes: 3 old-client probes, 2 RFC 8489 IPv4, 1 IPv6, and test I of
# the NAT test (its change requests are ignored, its repeats may vary).
if [[ $stats =~ success=([0-9]+) ]] && ((BASH_REMATCH[1] >= 7)) &&
	[[ $stats =~ dropped=([0-9]+) ]] && ((BASH_REMATCH[1] == 1)) &&
	[[ $stats =~ ignored=([0-9]+) ]] && ((BASH_REMATCH[1] >= 2)) &&
	[[ $stats =~ failed=0 ]]; then
	tb_ok "counters: every query answered, the junk dropped, change requests ignored"
else
	tb_notok "counters: every query answered, the junk dropped, change requests ignored" "$stats"
fi

m=$(old_client out 41001)
if [[ -z $m ]]; then
	tb_ok "with the responder stopped the stun client learns no address"
else
	tb_notok "with the responder stopped the stun client learns no address" "got '$m'"
fi

tb_done
