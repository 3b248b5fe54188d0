#!/usr/bin/env bash
# tests/netns/testbed_nat.sh — the test bed proves itself: each NAT kind maps
# and filters as documented in docs/testbed.md, and netem delays.
#
#   in-fc 10.1.0.2       in-rc 10.2.0.2       in-sy 10.3.0.2     inside hosts,
#      |                    |                    |               UDP from :40000
#   [lan-fc]             [lan-rc]             [lan-sy]           10.x.0.0/24
#      |                    |                    |
#   nat-fc 10.1.0.1      nat-rc 10.2.0.1      nat-sy 10.3.0.1
#   (fullcone)           (restricted)         (symmetric)
#   203.0.113.1          203.0.113.2          203.0.113.3
#      |                    |                    |
#   [inet]---------------------------------------+-------------------------+
#   203.0.113.0/24, 2001:db8:0:1::/64            |                         |
#                                  out1 203.0.113.101              out2 203.0.113.102
#                                  2001:db8:0:1::101               2001:db8:0:1::102
#                                  reflector :3478, strays :3479   (the same)
#
# [name] is a segment: a bridge in the run's switch namespace.  Every box is a
# network namespace "<prefix>-<name>"; nothing is created in the root one.
#
# Per kind: out2:3478 first sends an early datagram to the NAT's port 40000
# (a hole punch that arrives before the inside host sent anything).  Then the
# inside host sends from ONE port, 40000, to both reflectors, which answer with
# the source they saw.  Then out1:3479 and out2:3479 (endpoints
# the inside host never contacted) send to the mapping out1 saw, and last
# out1:3478 sends a marker through it: everything sent before the marker has
# had its chance to arrive once the marker is in.
#   mapping:   fullcone, restricted -> same external port; symmetric -> different
#   filtering: fullcone lets the strays in; restricted and symmetric drop them
# Also: IPv6 on a segment; netem on in-fc's link (100 ms delay -> ping RTT
# >= 100 ms, 100 % loss -> no ping, off -> ping again).
# Negative cases: the dropped strays, pinging an inside address from outside,
# 100 % loss, two library calls that must refuse bad input.
#
# Run as root: bash tests/netns/testbed_nat.sh
set -euo pipefail

# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tb_init
tb_require ping

PORT_IN=40000
PORT_REFLECT=3478
PORT_STRAY=3479

# ---------------------------------------------------------------- topology

tb_net inet
tb_host out1
tb_host out2
tb_attach out1 inet 203.0.113.101/24 2001:db8:0:1::101/64
tb_attach out2 inet 203.0.113.102/24 2001:db8:0:1::102/64

declare -A SHORT=([fullcone]=fc [restricted]=rc [symmetric]=sy)
declare -A EXT=([fullcone]=203.0.113.1 [restricted]=203.0.113.2 [symmetric]=203.0.113.3)
declare -A SUBNET=([fullcone]=1 [restricted]=2 [symmetric]=3)
KINDS=(fullcone restricted symmetric)

for kind in "${KINDS[@]}"; do
	s=${SHORT[$kind]} n=${SUBNET[$kind]}
	tb_net "lan-$s"
	tb_nat "nat-$s" "$kind" "lan-$s" "10.$n.0.1/24" inet "${EXT[$kind]}/24"
	tb_host "in-$s"
	tb_attach "in-$s" "lan-$s" "10.$n.0.2/24"
	tb_default "in-$s" "10.$n.0.1"
done

OUT1=$(tb_addr out1 inet)
OUT2=$(tb_addr out2 inet)

# ---------------------------------------------------------------- helpers

# mapped_seen FILE TO: the source the reflector at TO saw.
mapped_seen()
{
	awk -v to="$2" '$1 == "mapped" && $2 == to { print $3; exit }' "$1"
}

# shellcheck disable=SC2317 # got and not run through tb_check
# got FILE FROM PAYLOAD: did the client report that datagram?
got()
{
	awk -v from="$2" -v p="$3" '$1 == "recv" && $2 == from && $3 == p { f = 1 } END { exit !f }' "$1"
}

has_line()
{
	grep -qx -- "$2" "$1"
}

# The reflector answers once and exits, which frees its port for the marker.
start_reflector()
{
	local host=$1 addr=$2 log=$3
	tb_bg "$host" python3 "$TB_PROBE" reflect --bind "$addr:$PORT_REFLECT" \
		--count 1 --timeout 10 >"$log" 2>&1
	REFLECTOR_PID=$TB_LAST_PID
	tb_wait_for 5 grep -q '^listening' "$log" || tb_die "reflector on $host did not start: $(cat "$log")"
}

finish_reflector()
{
	local rc=0
	tb_wait_pid "$1" 5 || rc=$?
	((rc != 124)) || tb_kill "$1"
}

check_kind()
{
	local kind=$1 s=${SHORT[$1]} ext=${EXT[$1]} dir="$TB_DIR/$1"
	local in="in-${SHORT[$1]}" inaddr seen1 seen2 r1 r2 client rc=0
	mkdir -p "$dir"
	inaddr=$(tb_addr "$in" "lan-$s")

	# An early inbound datagram to the port the inside host is about to use,
	# as when a peer's hole punch arrives first.  The NAT must not let it
	# change the mapping the inside host then gets.
	tb_exec out2 python3 "$TB_PROBE" send --bind "$OUT2:$PORT_REFLECT" \
		--to "$ext:$PORT_IN" --data early-punch
	start_reflector out1 "$OUT1" "$dir/reflect1"
	r1=$REFLECTOR_PID
	start_reflector out2 "$OUT2" "$dir/reflect2"
	r2=$REFLECTOR_PID
	tb_bg "$in" python3 "$TB_PROBE" client --bind "$inaddr:$PORT_IN" \
		--to "$OUT1:$PORT_REFLECT" --to "$OUT2:$PORT_REFLECT" \
		--timeout 10 --until END >"$dir/client" 2>&1
	client=$TB_LAST_PID
	tb_wait_for 8 grep -q '^probed' "$dir/client" || true
	finish_reflector "$r1"
	finish_reflector "$r2"

	if has_line "$dir/client" "probed ok"; then
		tb_ok "$kind: both outside hosts answered the inside host's single socket"
	else
		tb_notok "$kind: both outside hosts answered the inside host's single socket" \
			"$(tr '\n' ';' <"$dir/client")"
	fi
	seen1=$(mapped_seen "$dir/client" "$OUT1:$PORT_REFLECT")
	seen2=$(mapped_seen "$dir/client" "$OUT2:$PORT_REFLECT")
	tb_note "$kind: $inaddr:$PORT_IN is seen as $seen1 by out1 and as $seen2 by out2"
	if [[ ${seen1%:*} == "$ext" && ${seen2%:*} == "$ext" ]]; then
		tb_ok "$kind: outside hosts see the NAT's outside address $ext"
	else
		tb_notok "$kind: outside hosts see the NAT's outside address $ext" "saw '$seen1' and '$seen2'"
	fi
	if [[ $kind == symmetric ]]; then
		if [[ -n $seen1 && -n $seen2 && ${seen1##*:} != "${seen2##*:}" ]]; then
			tb_ok "$kind: a different external port per destination (endpoint-dependent mapping)"
		else
			tb_notok "$kind: a different external port per destination (endpoint-dependent mapping)" \
				"saw '$seen1' and '$seen2'"
		fi
	else
		if [[ -n $seen1 && $seen1 == "$seen2" ]]; then
			tb_ok "$kind: the same external port for both destinations, despite an early inbound datagram (endpoint-independent mapping)"
		else
			tb_notok "$kind: the same external port for both destinations, despite an early inbound datagram (endpoint-independent mapping)" \
				"saw '$seen1' and '$seen2'"
		fi
	fi

	# Strays first, then the marker along the one path every kind must let in.
	if [[ -n $seen1 ]]; then
		tb_exec out2 python3 "$TB_PROBE" send --bind "$OUT2:$PORT_STRAY" --to "$seen1" --data stray-out2
		tb_exec out1 python3 "$TB_PROBE" send --bind "$OUT1:$PORT_STRAY" --to "$seen1" --data stray-out1
		sleep 0.2
		tb_exec out1 python3 "$TB_PROBE" send --bind "$OUT1:$PORT_REFLECT" --to "$seen1" --data END
	fi
	tb_wait_pid "$client" 12 || rc=$?
	((rc != 124)) || tb_kill "$client"

	if has_line "$dir/client" "marker $OUT1:$PORT_REFLECT"; then
		tb_ok "$kind: out1's reflector endpoint reaches the inside host through its mapping"
	else
		tb_notok "$kind: out1's reflector endpoint reaches the inside host through its mapping" \
			"$(tr '\n' ';' <"$dir/client")"
	fi
	if [[ $kind == fullcone ]]; then
		tb_check "$kind: unsolicited datagram from out2:$PORT_STRAY reaches the inside host (endpoint-independent filtering)" \
			got "$dir/client" "$OUT2:$PORT_STRAY" stray-out2
		tb_check "$kind: unsolicited datagram from out1:$PORT_STRAY reaches the inside host" \
			got "$dir/client" "$OUT1:$PORT_STRAY" stray-out1
	else
		tb_check "$kind: unsolicited datagram from out2:$PORT_STRAY is dropped" \
			not got "$dir/client" "$OUT2:$PORT_STRAY" stray-out2
		tb_check "$kind: datagram from out1's other port $PORT_STRAY is dropped (port-restricted filtering)" \
			not got "$dir/client" "$OUT1:$PORT_STRAY" stray-out1
	fi

	# Even with a route to the inside net, the NAT forwards nothing unmapped.
	tb_route out1 "10.${SUBNET[$kind]}.0.0/24" via "$ext"
	tb_check "$kind: out1 cannot ping the inside address $inaddr through the NAT" \
		not tb_exec out1 ping -n -c 1 -w 1 "$inaddr"
}

# shellcheck disable=SC2317
not()
{
	! "$@"
}

# ping_rtt HOST DST: "MIN MAX" round-trip times in ms of 3 pings.
ping_rtt()
{
	local out
	out=$(tb_exec "$1" ping -n -c 3 -i 0.2 -w 5 "$2" 2>&1) || return 1
	awk -F'[/ =]+' '/^rtt/ { print $6, $8 }' <<<"$out"
}

# ---------------------------------------------------------------- tests

for kind in "${KINDS[@]}"; do
	check_kind "$kind"
done

tb_check "IPv6 works on a segment (out1 -> out2)" \
	tb_exec out1 ping -6 -n -c 1 -w 2 "$(tb_addr out2 inet 6)"

NAT_IN=$(tb_addr nat-fc lan-fc)
read -r min max < <(ping_rtt in-fc "$NAT_IN" || echo "- -")
if [[ $max =~ ^[0-9.]+$ ]] && awk -v m="$max" 'BEGIN { exit !(m < 100) }'; then
	tb_ok "netem: RTT in-fc -> nat-fc is below 100 ms without netem (${max} ms)"
else
	tb_notok "netem: RTT in-fc -> nat-fc is below 100 ms without netem" "max '$max'"
fi
tb_netem in-fc lan-fc delay 100ms
read -r min max < <(ping_rtt in-fc "$NAT_IN" || echo "- -")
if [[ $min =~ ^[0-9.]+$ ]] && awk -v m="$min" 'BEGIN { exit !(m >= 100) }'; then
	tb_ok "netem: RTT in-fc -> nat-fc is at least 100 ms with 'delay 100ms' (min ${min} ms)"
else
	tb_notok "netem: RTT in-fc -> nat-fc is at least 100 ms with 'delay 100ms'" "min '$min'"
fi
tb_netem in-fc lan-fc loss 100%
tb_check "netem: 'loss 100%' cuts in-fc off from nat-fc" \
	not tb_exec in-fc ping -n -c 1 -w 1 "$NAT_IN"
tb_netem in-fc lan-fc off
tb_check "netem: 'off' restores the link" tb_exec in-fc ping -n -c 1 -w 2 "$NAT_IN"

# The library must refuse nonsense with a message, not half-build it.
if err=$( (tb_attach out1 nosuchnet 192.0.2.1/24) 2>&1); then
	tb_notok "tb_attach refuses an unknown net"
else
	tb_check "tb_attach refuses an unknown net" grep -q "no such net 'nosuchnet'" <<<"$err"
fi
if err=$( (tb_netem out1 inet bogus 5) 2>&1); then
	tb_notok "tb_netem refuses a bogus netem spec"
else
	tb_check "tb_netem refuses a bogus netem spec" grep -q "tb_netem out1 inet" <<<"$err"
fi

tb_done
