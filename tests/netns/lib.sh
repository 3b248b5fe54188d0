# shellcheck shell=bash
# tests/netns/lib.sh — the network test bed for Scope integration tests.
#
# Source it from a bash test script, call tb_init, build a topology out of
# network namespaces, run things in it, report with the TAP helpers, end with
# tb_done.  Full reference and examples: docs/testbed.md.
#
# Every host is a network namespace named "<prefix>-<host>".  Every segment
# ("net") is a bridge inside one switch namespace "<prefix>-switch".  The
# prefix is "s" + 4 hex digits, claimed atomically per run, so parallel or
# aborted runs never collide.  Nothing at all is created in the root
# namespace: veth pairs are created with one end directly in the host
# namespace and the other directly in the switch namespace.
#
# Setup and teardown
#   tb_init                       claim a prefix, make $TB_DIR, arm the traps
#   tb_cleanup                    kill tracked processes, delete namespaces and
#                                 $TB_DIR; idempotent, also runs on EXIT/INT/TERM/HUP
#   tb_defer CMD...               run CMD at cleanup (LIFO, before the teardown)
#   tb_require CMD...             die with the Debian package to install if missing
#   tb_reap_stale                 remove leftovers of runs killed by SIGKILL
#                                 (also: bash tests/netns/lib.sh reap)
# Topology
#   tb_host NAME                  host namespace: lo up, forwarding off, no DAD/RA
#   tb_net NAME                   segment (bridge) NAME; NAME <= 9 chars, it is
#                                 also the interface name on every attached host
#   tb_attach HOST NET ADDR/LEN [ADDR6/LEN]
#                                 veth HOST:NET <-> bridge; ADDR may be "-" (none)
#   tb_route HOST DEST via GW [ARGS...]
#                                 ip route replace (family from GW); DEST may be default
#   tb_default HOST GW            = tb_route HOST default via GW
#   tb_router NAME                a host with IPv4/IPv6 forwarding on
#   tb_nat NAME KIND IN_NET IN_ADDR/LEN OUT_NET OUT_ADDR/LEN
#                                 NAT box; KIND = fullcone | restricted | symmetric
#   tb_netem [-b] HOST IFACE SPEC...|off
#                                 netem on HOST's IFACE egress (-b: also the
#                                 traffic towards HOST); tc netem if the kernel
#                                 has it, else the userspace emulator linkem.py
# Running things
#   tb_exec HOST CMD...           run CMD in HOST (ip netns exec)
#   tb_bg HOST CMD...             start CMD in the background in HOST; its PID is
#                                 in $TB_LAST_PID and it is killed at cleanup
#   tb_kill PID                   stop a tb_bg process now (TERM, then KILL)
#   tb_wait_pid PID SECS          wait for a tb_bg process; its status, 124 on timeout
#   tb_wait_for SECS CMD...       poll CMD every 0.1 s until it succeeds; 1 on timeout
# Queries (safe inside $(...))
#   tb_ns HOST                    namespace name (for nsenter, ip -n, daemons)
#   tb_addr HOST NET [4|6]        address of HOST on NET, without the prefix length
#   tb_if HOST NET                interface name of HOST on NET (= NET)
#   $TB_DIR (per-run temp dir), $TB_PREFIX, $TB_PROBE (path of udp_probe.py)
# Reporting (TAP-like)
#   tb_ok DESC | tb_notok DESC [DIAG...] | tb_check DESC CMD... | tb_note MSG
#   tb_done                       clean up, print "N passed, M failed", exit 0/1
#   tb_die MSG                    error on stderr, exit 1 (the trap cleans up)
#
# Rules: call the functions that create or count something (everything but
# the queries) from the main shell, never inside $(...), a pipeline or ( ):
# a subshell's changes to the registry would be lost.  They refuse to run there.

TB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # for the tests
TB_PROBE="$TB_LIBDIR/udp_probe.py"
TB_PREFIX=""
TB_DIR=""
TB_SWITCH=""
TB_OWNER=""
TB_LAST_PID=""
TB_NPASS=0
TB_NFAIL=0
TB_TAP_USED=0
TB_SUMMARY_DONE=0
TB_CLEANING=0
TB_PORTN=0
declare -gA TB_HOST_NS=()	# host -> namespace
declare -gA TB_NET_BR=()	# net -> bridge (in the switch namespace)
declare -gA TB_IFACE=()		# "host net" -> interface in the host namespace
declare -gA TB_PORT=()		# "host net" -> bridge port in the switch namespace
declare -gA TB_ADDR4=()		# "host net" -> IPv4 address, no length
declare -gA TB_ADDR6=()		# "host net" -> IPv6 address, no length
declare -gA TB_EMU_PID=()	# "host net" -> linkem.py PID (userspace netem)
declare -gA TB_EMU_A2B=()	# "host net" -> impairment host -> bridge
declare -gA TB_EMU_B2A=()	# "host net" -> impairment bridge -> host
TB_EMU_GEN=0
TB_NETEM_MODE=""		# kernel | user, decided at the first tb_netem
declare -ga TB_PIDS=()		# tb_bg processes
declare -ga TB_DEFERRED=()	# tb_defer commands

# ---------------------------------------------------------------- errors

# The message names the tb_ function the test called and the test's line.
tb_die()
{
	local i=1 n=${#FUNCNAME[@]}
	while ((i + 1 < n)) && [[ ${BASH_SOURCE[i + 1]} == "${BASH_SOURCE[0]}" ]]; do
		i=$((i + 1))
	done
	echo "tb: error: ${FUNCNAME[i]:-main}: $* (called from ${BASH_SOURCE[i + 1]:-?}:${BASH_LINENO[i]:-?})" >&2
	exit 1
}

tb_note()
{
	echo "# $*" >&2
}

# Run a command; on failure die with its stderr, so a failed setup step says
# which step, which command and why.
tb__run()
{
	local what=$1 err
	shift
	if ! err=$("$@" 2>&1); then
		tb_die "$what: '$*' failed: ${err:-no message}"
	fi
}

tb__need_init()
{
	[[ -n $TB_PREFIX ]] || tb_die "tb_init has not been called"
}

# Creators and counters must run in the main shell: a subshell's changes to
# the registry would be lost, and what it created would not be cleaned up.
tb__need_owner()
{
	[[ -z $TB_OWNER || $BASHPID == "$TB_OWNER" ]] ||
		tb_die "must be called from the main shell, not inside \$(...), ( ) or a pipeline"
}

tb__need_host()
{
	[[ -n ${TB_HOST_NS[$1]:-} ]] || tb_die "no such host '$1' (create it with tb_host)"
}

tb__valid_name()
{
	local kind=$1 name=$2 max=$3
	[[ $name =~ ^[a-z][a-z0-9-]*$ ]] ||
		tb_die "$kind name '$name' must match [a-z][a-z0-9-]*"
	((${#name} <= max)) || tb_die "$kind name '$name' is longer than $max characters"
}

tb_require()
{
	local cmd pkg
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 && continue
		case $cmd in
		ip | tc) pkg=iproute2 ;;
		nft) pkg=nftables ;;
		ping) pkg=iputils-ping ;;
		timeout) pkg=coreutils ;;
		sysctl) pkg=procps ;;
		wg) pkg=wireguard-tools ;;
		*) pkg=$cmd ;;
		esac
		tb_die "'$cmd' not found: install the Debian package '$pkg' (tools/packages.txt)"
	done
}

# ---------------------------------------------------------------- lifecycle

tb__our_namespaces()
{
	local list line
	[[ -n $TB_PREFIX ]] || return 0
	list=$(ip netns list 2>/dev/null) || return 0
	while read -r line _; do
		[[ $line == "$TB_PREFIX"-* ]] && echo "$line"
	done <<<"$list"
	return 0
}

tb_init()
{
	local p
	[[ -z $TB_PREFIX ]] || tb_die "tb_init called twice"
	((EUID == 0)) || tb_die "the test bed needs root (network namespaces)"
	tb_require ip tc nft python3 timeout sysctl
	TB_OWNER=$BASHPID
	tb_reap_stale
	trap 'tb__on_exit' EXIT
	# errtrace: the ERR trap also fires inside functions, so a failure in a
	# test's helper function is reported at the line that failed.
	set -o errtrace
	trap 'tb__on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Claim the prefix: "ip netns add" fails if the name exists, so two runs
	# that draw the same prefix cannot both get it; leftovers of an aborted
	# run (any "<prefix>-*") make us draw again.
	for _ in {1..32}; do
		p=$(printf 's%04x' $(((RANDOM << 8 ^ RANDOM ^ $$) & 0xffff)))
		TB_PREFIX=$p
		if [[ -z $(tb__our_namespaces) ]] && ip netns add "$p-switch" 2>/dev/null; then
			break
		fi
		TB_PREFIX=""
	done
	[[ -n $TB_PREFIX ]] || tb_die "could not claim a free namespace prefix in 32 tries"
	TB_SWITCH="$TB_PREFIX-switch"
	TB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/scope-tb.$TB_PREFIX.XXXXXX") ||
		tb_die "mktemp failed"
	# Who owns the prefix, for tb_reap_stale after a SIGKILL.
	tb__proc_id "$BASHPID" >"$TB_DIR/owner"
	# The switch only bridges: no IPv6 (no link-local chatter), no forwarding.
	tb__sysctl "$TB_SWITCH" net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
	tb__run "tb_init" ip -n "$TB_SWITCH" link set lo up
	tb_note "test bed prefix $TB_PREFIX, files in $TB_DIR"
}

# "PID STARTTIME": a PID alone may be reused once its process is gone.
tb__proc_id()
{
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }	# the command name may contain blanks
	echo "$1 $(cut -d' ' -f20 <<<"$stat")"
}

# Remove what runs killed by SIGKILL (whose traps never ran) left behind.
# Only prefixes with an owner file whose process is gone are touched: a
# namespace the test bed cannot attribute to a dead run of its own is left
# alone.  Also: bash tests/netns/lib.sh reap
tb_reap_stale()
{
	local line ns p owner pid
	local -a dirs nss
	while read -r ns _; do
		[[ $ns =~ ^(s[0-9a-f]{4})-switch$ ]] || continue
		p=${BASH_REMATCH[1]}
		[[ $p != "$TB_PREFIX" ]] || continue
		dirs=("${TMPDIR:-/tmp}/scope-tb.$p."*)
		[[ -f ${dirs[0]}/owner ]] || continue
		owner=$(<"${dirs[0]}/owner")
		[[ $(tb__proc_id "${owner%% *}") != "$owner" ]] || continue
		mapfile -t nss < <(ip netns list | awk -v p="$p-" 'index($1, p) == 1 { print $1 }')
		for line in "${nss[@]}"; do
			for pid in $(ip netns pids "$line" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null || true
			done
		done
		for line in "${nss[@]}"; do
			ip netns del "$line" 2>/dev/null || true
		done
		rm -rf -- "${dirs[@]}"
		tb_note "reaped the leftovers of dead run $p (${#nss[@]} namespaces)"
	done < <(ip netns list 2>/dev/null)
	return 0
}

tb_defer()
{
	tb__need_init
	tb__need_owner
	(($# > 0)) || tb_die "usage: tb_defer CMD..."
	TB_DEFERRED+=("$(printf '%q ' "$@")")
}

# Is PID alive?  A zombie is not: it holds no namespace any more.
tb__alive()
{
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z ]]
}

# TERM the PIDs, give them up to 2 s, then KILL the rest.
tb__stop_pids()
{
	local pid left i
	(($# > 0)) || return 0
	kill -TERM "$@" 2>/dev/null || true
	for i in {1..20}; do
		left=0
		for pid in "$@"; do
			tb__alive "$pid" && left=1
		done
		((left)) || return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
	return 0
}

tb_cleanup()
{
	local - ns pid i
	local -a nss pids
	set +e
	[[ -n $TB_PREFIX ]] || return 0
	# A subshell ( ) has the variables but owns nothing.
	[[ $BASHPID == "$TB_OWNER" ]] || return 0
	trap '' INT TERM HUP
	TB_CLEANING=1	# failures below are expected (gone processes), not news
	for ((i = ${#TB_DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${TB_DEFERRED[i]}" || tb_note "cleanup: '${TB_DEFERRED[i]}' failed"
	done
	TB_DEFERRED=()
	# Tracked processes, then anything still running inside our namespaces
	# (children of tracked processes, a daemon that forked): all were started
	# by this run, inside namespaces this run created.
	mapfile -t nss < <(tb__our_namespaces)
	pids=()
	for pid in "${TB_PIDS[@]}"; do
		tb__alive "$pid" && pids+=("$pid")
	done
	for ns in "${nss[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			pids+=("$pid")
		done
	done
	tb__stop_pids "${pids[@]}"
	for pid in "${TB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	TB_PIDS=()
	# Deleting a namespace destroys its interfaces, veth peers included.
	for ns in "${nss[@]}"; do
		ip netns del "$ns" 2>/dev/null || tb_note "cleanup: could not delete namespace $ns"
	done
	[[ -n $TB_DIR && -d $TB_DIR ]] && rm -rf -- "$TB_DIR"
	TB_PREFIX="" TB_DIR="" TB_SWITCH=""
	TB_HOST_NS=() TB_NET_BR=() TB_IFACE=() TB_PORT=() TB_ADDR4=() TB_ADDR6=()
	TB_EMU_PID=() TB_EMU_A2B=() TB_EMU_B2A=() TB_NETEM_MODE=""
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	TB_CLEANING=0
	return 0
}

# Under set -e this names the command that is about to end the script, at
# the innermost line outside lib.sh (a failure inside a tb_ function is
# reported at the test's call).
tb__on_err()
{
	local i line=$2
	[[ $BASHPID == "$TB_OWNER" && $TB_CLEANING == 0 ]] || return 0
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		[[ ${BASH_SOURCE[i]} == "${BASH_SOURCE[0]}" ]] || break
		line=${BASH_LINENO[i]}
	done
	tb_note "command failed with status $1 at ${BASH_SOURCE[i]:-?}:$line: $3"
}

tb__on_exit()
{
	local rc=$?
	[[ $BASHPID == "$TB_OWNER" ]] || return 0
	if ((!TB_SUMMARY_DONE && rc != 0)); then
		tb_notok "test script aborted with status $rc"
	fi
	tb_cleanup
	if ((TB_TAP_USED && !TB_SUMMARY_DONE)); then
		tb__summary
		((TB_NFAIL == 0 || rc != 0)) || rc=1
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- topology

tb__sysctl()
{
	local ns=$1
	shift
	tb__run "sysctl in $ns" ip netns exec "$ns" sysctl -qw "$@"
}

tb_host()
{
	local name=${1:-} ns
	(($# == 1)) || tb_die "usage: tb_host NAME"
	tb__need_init
	tb__valid_name host "$name" 32
	[[ $name != switch ]] || tb_die "'switch' is reserved"
	[[ -z ${TB_HOST_NS[$name]:-} ]] || tb_die "host '$name' already exists"
	tb__need_owner
	ns="$TB_PREFIX-$name"
	tb__run "tb_host $name" ip netns add "$ns"
	TB_HOST_NS[$name]=$ns
	# Only routers forward.  No DAD (addresses usable at once), no RA.
	tb__sysctl "$ns" net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	tb__run "tb_host $name" ip -n "$ns" link set lo up
}

tb_router()
{
	(($# == 1)) || tb_die "usage: tb_router NAME"
	tb_host "$1"
	tb__sysctl "${TB_HOST_NS[$1]}" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

tb_net()
{
	local name=${1:-} br
	(($# == 1)) || tb_die "usage: tb_net NAME"
	tb__need_init
	# The name is the interface name on attached hosts, and the bridge is
	# "<prefix>-<name>": 5 + 1 + 9 = 15, the Linux limit.
	tb__valid_name net "$name" 9
	[[ $name != lo ]] || tb_die "'lo' is reserved"
	[[ -z ${TB_NET_BR[$name]:-} ]] || tb_die "net '$name' already exists"
	tb__need_owner
	br="$TB_PREFIX-$name"
	tb__run "tb_net $name" ip -n "$TB_SWITCH" link add name "$br" type bridge \
		stp_state 0 forward_delay 0
	tb__run "tb_net $name" ip -n "$TB_SWITCH" link set dev "$br" up
	TB_NET_BR[$name]=$br
}

tb_attach()
{
	local host=${1:-} net=${2:-} a4=${3:-} a6=${4:-} ns port key
	(($# == 3 || $# == 4)) || tb_die "usage: tb_attach HOST NET ADDR/LEN|- [ADDR6/LEN]"
	tb__need_init
	tb__need_host "$host"
	[[ -n ${TB_NET_BR[$net]:-} ]] || tb_die "no such net '$net' (create it with tb_net)"
	key="$host $net"
	[[ -z ${TB_IFACE[$key]:-} ]] || tb_die "host '$host' is already attached to '$net'"
	[[ $a4 == - || $a4 =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] ||
		tb_die "bad IPv4 address '$a4' (want A.B.C.D/LEN or -)"
	[[ -z $a6 || $a6 =~ ^[0-9a-fA-F:]+/[0-9]+$ ]] ||
		tb_die "bad IPv6 address '$a6' (want X:Y::Z/LEN)"
	tb__need_owner
	ns=${TB_HOST_NS[$host]}
	TB_PORTN=$((TB_PORTN + 1))
	port="${TB_PREFIX}p$TB_PORTN"
	# Both ends are born in their namespaces: nothing touches the root one.
	tb__run "tb_attach $host $net" ip -n "$ns" link add name "$net" type veth \
		peer name "$port" netns "$TB_SWITCH"
	TB_IFACE[$key]=$net
	TB_PORT[$key]=$port
	tb__run "tb_attach $host $net" ip -n "$TB_SWITCH" link set dev "$port" \
		master "${TB_NET_BR[$net]}" up
	if [[ $a4 != - ]]; then
		tb__run "tb_attach $host $net" ip -n "$ns" addr add "$a4" dev "$net"
		TB_ADDR4[$key]=${a4%/*}
	fi
	if [[ -n $a6 ]]; then
		tb__run "tb_attach $host $net" ip -n "$ns" -6 addr add "$a6" dev "$net" nodad
		TB_ADDR6[$key]=${a6%/*}
	fi
	tb__run "tb_attach $host $net" ip -n "$ns" link set dev "$net" up
}

tb_route()
{
	local host=${1:-} dest=${2:-} gw=${4:-} fam=-4
	if (($# < 4)) || [[ $3 != via ]]; then
		tb_die "usage: tb_route HOST DEST|default via GW [ARGS...]"
	fi
	tb__need_init
	tb__need_host "$host"
	[[ $gw == *:* ]] && fam=-6
	tb__run "tb_route $host $dest" ip -n "${TB_HOST_NS[$host]}" "$fam" route replace \
		"$dest" via "$gw" "${@:5}"
}

tb_default()
{
	(($# == 2)) || tb_die "usage: tb_default HOST GW"
	tb_route "$1" default via "$2"
}

# Build the nftables ruleset of a NAT box.  See docs/testbed.md for why each
# rule is there.
tb__nat_ruleset()
{
	local kind=$1 in=$2 out=$3 ext=$4 snat
	snat="snat ip to $ext"
	[[ $kind == symmetric ]] && snat="$snat fully-random"
	echo "table ip scope_tb_nat {"
	if [[ $kind == fullcone ]]; then
		cat <<-EOF
		map fullcone {
			type inet_service : ipv4_addr . inet_service
			flags dynamic,timeout
			timeout 180s
		}
		chain learn {
			type filter hook postrouting priority 200; policy accept;
			oifname "$out" meta l4proto udp ct direction original ct status snat update @fullcone { ct reply proto-dst : ct original ip saddr . ct original proto-src }
		}
		EOF
	fi
	cat <<-EOF
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
	EOF
	[[ $kind == fullcone ]] &&
		echo "	iifname \"$out\" ip daddr $ext dnat ip to udp dport map @fullcone"
	cat <<-EOF
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$out" ip saddr != $ext $snat
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "$in" oifname "$out" accept
	EOF
	[[ $kind == fullcone ]] &&
		echo "	iifname \"$out\" oifname \"$in\" ct status dnat accept"
	cat <<-EOF
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "$out" ct state established,related accept
		iifname "$out" icmp type echo-request accept
		iifname "$out" drop
	}
	}
	EOF
}

tb_nat()
{
	local name=${1:-} kind=${2:-} in=${3:-} ina=${4:-} out=${5:-} outa=${6:-} file
	(($# == 6)) || tb_die "usage: tb_nat NAME fullcone|restricted|symmetric IN_NET IN_ADDR/LEN OUT_NET OUT_ADDR/LEN"
	case $kind in
	fullcone | restricted | symmetric) ;;
	*) tb_die "unknown NAT kind '$kind' (want fullcone, restricted or symmetric)" ;;
	esac
	[[ $in != "$out" ]] || tb_die "inside and outside nets must differ"
	[[ $ina != - && $outa != - ]] || tb_die "a NAT box needs IPv4 addresses on both nets"
	tb_host "$name"
	tb_attach "$name" "$in" "$ina"
	tb_attach "$name" "$out" "$outa"
	tb__sysctl "${TB_HOST_NS[$name]}" net.ipv4.ip_forward=1
	file="$TB_DIR/nat-$name.nft"
	tb__nat_ruleset "$kind" "$in" "$out" "${outa%/*}" >"$file"
	tb__run "tb_nat $name ($kind)" ip netns exec "${TB_HOST_NS[$name]}" nft -f "$file"
}

# tc netem is a kernel option (CONFIG_NET_SCH_NETEM); some kernels, this
# project's test machines among them, lack it.  Decide once per run:
# TB_NETEM=kernel|user forces a mode, auto (default) probes the kernel.
tb__netem_mode()
{
	[[ -z $TB_NETEM_MODE ]] || return 0
	case ${TB_NETEM:-auto} in
	kernel | user) TB_NETEM_MODE=$TB_NETEM ;;
	auto)
		if ip netns exec "$TB_SWITCH" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
			ip netns exec "$TB_SWITCH" tc qdisc del dev lo root 2>/dev/null || true
			TB_NETEM_MODE=kernel
		else
			TB_NETEM_MODE=user
			tb_note "no sch_netem in this kernel: tb_netem uses the userspace link emulator"
		fi
		;;
	*) tb_die "TB_NETEM must be auto, kernel or user, not '$TB_NETEM'" ;;
	esac
}

tb_netem()
{
	local both=0 host iface spec
	local -a words
	if [[ ${1:-} == -b ]]; then
		both=1
		shift
	fi
	(($# >= 3)) || tb_die "usage: tb_netem [-b] HOST IFACE 'delay 50ms loss 1%'|off"
	host=$1 iface=$2
	shift 2
	tb__need_init
	tb__need_host "$host"
	read -r -a words <<<"$*"
	spec=${words[*]}	# a list of words, blanks normalised
	[[ -n $spec ]] || tb_die "empty netem spec"
	ip -n "${TB_HOST_NS[$host]}" link show dev "$iface" >/dev/null 2>&1 ||
		tb_die "host '$host' has no interface '$iface'"
	((!both)) || [[ -n ${TB_PORT[$host $iface]:-} ]] ||
		tb_die "-b needs IFACE to be a net that '$host' is attached to"
	tb__netem_mode
	if [[ $TB_NETEM_MODE == kernel ]]; then
		tb__netem_kernel "$both" "$host" "$iface" "$spec"
	else
		tb__netem_user "$both" "$host" "$iface" "$spec"
	fi
}

# netem on HOST's IFACE (its egress) and, with -b, on the bridge port (the
# egress towards HOST).
tb__netem_kernel()
{
	local both=$1 host=$2 iface=$3 spec=$4 ns=${TB_HOST_NS[$2]} port
	local -a words
	read -r -a words <<<"$spec"
	if [[ $spec == off ]]; then
		ip netns exec "$ns" tc qdisc del dev "$iface" root 2>/dev/null || true
	else
		tb__run "tb_netem $host $iface" ip netns exec "$ns" tc qdisc replace \
			dev "$iface" root netem "${words[@]}"
	fi
	((both)) || return 0
	port=${TB_PORT[$host $iface]}
	if [[ $spec == off ]]; then
		ip netns exec "$TB_SWITCH" tc qdisc del dev "$port" root 2>/dev/null || true
	else
		tb__run "tb_netem $host $iface (switch side)" ip netns exec "$TB_SWITCH" \
			tc qdisc replace dev "$port" root netem "${words[@]}"
	fi
}

# The userspace emulator is spliced into the link inside the switch:
#
#   HOST:IFACE ==veth== port --linkem.py-- f ==veth== e --- bridge
#
# "port" leaves the bridge while linkem.py forwards between it and "f".  The
# first line of the spec file is the HOST -> bridge impairment (the host's
# egress, as with tc), the second bridge -> HOST (-b).
tb__netem_user()
{
	local both=$1 host=$2 iface=$3 spec=$4 key="$2 $3" why
	[[ -n ${TB_PORT[$key]:-} ]] ||
		tb_die "no sch_netem in this kernel, and the userspace emulator only shapes links made by tb_attach: '$host' has no link '$iface'"
	if [[ $spec == off ]]; then
		spec=""
	else
		# shellcheck disable=SC2086 # the spec is a list of words
		why=$(python3 "$TB_LIBDIR/linkem.py" check $spec 2>&1) ||
			tb_die "tb_netem $host $iface: netem spec '$spec' rejected: $why"
	fi
	tb__need_owner
	TB_EMU_A2B[$key]=$spec
	((!both)) || TB_EMU_B2A[$key]=$spec
	if [[ -z ${TB_EMU_A2B[$key]} && -z ${TB_EMU_B2A[$key]:-} ]]; then
		[[ -z ${TB_EMU_PID[$key]:-} ]] || tb__emu_remove "$key"
	elif [[ -z ${TB_EMU_PID[$key]:-} ]]; then
		tb__emu_insert "$key"
	else
		tb__emu_update "$key"
	fi
}

tb__emu_names()
{
	local n=${TB_PORT[$1]#"${TB_PREFIX}p"}
	EMU_E="${TB_PREFIX}e$n" EMU_F="${TB_PREFIX}f$n"
	EMU_FILE="$TB_DIR/linkem$n.spec" EMU_LOG="$TB_DIR/linkem$n.log"
}

tb__emu_write()
{
	TB_EMU_GEN=$((TB_EMU_GEN + 1))
	printf '%s\n%s\n%s\n' "${TB_EMU_A2B[$1]:-}" "${TB_EMU_B2A[$1]:-}" "$TB_EMU_GEN" \
		>"$EMU_FILE.tmp"
	mv -f "$EMU_FILE.tmp" "$EMU_FILE"
}

tb__emu_insert()
{
	local key=$1 port=${TB_PORT[$1]} br=${TB_NET_BR[${1#* }]} pid
	local EMU_E EMU_F EMU_FILE EMU_LOG
	tb__emu_names "$key"
	tb__run "tb_netem $key" ip -n "$TB_SWITCH" link add name "$EMU_F" type veth peer name "$EMU_E"
	tb__run "tb_netem $key" ip -n "$TB_SWITCH" link set dev "$EMU_E" master "$br" up
	tb__run "tb_netem $key" ip -n "$TB_SWITCH" link set dev "$EMU_F" up
	tb__emu_write "$key"
	tb__bg_ns "$TB_SWITCH" python3 "$TB_LIBDIR/linkem.py" run --a "$port" --b "$EMU_F" \
		--spec "$EMU_FILE" --paused >"$EMU_LOG" 2>&1
	pid=$TB_LAST_PID
	TB_EMU_PID[$key]=$pid
	tb_wait_for 5 grep -qx ready "$EMU_LOG" ||
		tb_die "tb_netem $key: the link emulator did not start: $(cat "$EMU_LOG")"
	# Out of the bridge first, then forward: a few frames may be lost in
	# between, none duplicated.
	tb__run "tb_netem $key" ip -n "$TB_SWITCH" link set dev "$port" nomaster
	kill -USR1 "$pid" 2>/dev/null ||
		tb_die "tb_netem $key: the link emulator died: $(cat "$EMU_LOG")"
}

tb__emu_update()
{
	local key=$1 EMU_E EMU_F EMU_FILE EMU_LOG
	tb__emu_names "$key"
	tb__emu_write "$key"
	kill -HUP "${TB_EMU_PID[$key]}" 2>/dev/null ||
		tb_die "tb_netem $key: the link emulator died: $(cat "$EMU_LOG")"
	tb_wait_for 5 grep -qx "spec $TB_EMU_GEN" "$EMU_LOG" ||
		tb_die "tb_netem $key: the link emulator did not take the new spec: $(cat "$EMU_LOG")"
}

tb__emu_remove()
{
	local key=$1 EMU_E EMU_F EMU_FILE EMU_LOG
	tb__emu_names "$key"
	tb_kill "${TB_EMU_PID[$key]}"
	unset "TB_EMU_PID[$key]" "TB_EMU_A2B[$key]" "TB_EMU_B2A[$key]"
	tb__run "tb_netem $key" ip -n "$TB_SWITCH" link set dev "${TB_PORT[$key]}" \
		master "${TB_NET_BR[${key#* }]}"
	tb__run "tb_netem $key" ip -n "$TB_SWITCH" link del dev "$EMU_F"
}

# ---------------------------------------------------------------- running

tb_exec()
{
	local host=${1:-}
	(($# >= 2)) || tb_die "usage: tb_exec HOST CMD..."
	[[ -n ${TB_HOST_NS[$host]:-} ]] || tb_die "no such host '$host'"
	shift
	ip netns exec "${TB_HOST_NS[$host]}" "$@"
}

tb_bg()
{
	local host=${1:-}
	(($# >= 2)) || tb_die "usage: tb_bg HOST CMD..."
	tb__need_init
	tb__need_owner
	tb__need_host "$host"
	shift
	tb__bg_ns "${TB_HOST_NS[$host]}" "$@"
}

tb__bg_ns()
{
	local ns=$1
	shift
	# "ip netns exec" execs CMD, so $! is CMD's own PID.
	ip netns exec "$ns" "$@" &
	TB_LAST_PID=$!
	TB_PIDS+=("$TB_LAST_PID")
}

tb__tracked()
{
	local p
	for p in "${TB_PIDS[@]}"; do
		[[ $p == "$1" ]] && return 0
	done
	return 1
}

tb_kill()
{
	(($# == 1)) || tb_die "usage: tb_kill PID"
	tb__need_init
	tb__need_owner
	tb__tracked "$1" || tb_die "PID $1 was not started by tb_bg"
	tb__stop_pids "$1"
	wait "$1" 2>/dev/null || true
}

tb_wait_pid()
{
	local pid=${1:-} secs=${2:-} i n rc=0
	(($# == 2)) || tb_die "usage: tb_wait_pid PID SECS"
	tb__need_init
	tb__need_owner
	tb__tracked "$pid" || tb_die "PID $pid was not started by tb_bg"
	n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 20 }')
	for ((i = 0; i < n; i++)); do
		tb__alive "$pid" || break
		sleep 0.05
	done
	tb__alive "$pid" && return 124
	wait "$pid" || rc=$?
	return "$rc"
}

tb_wait_for()
{
	local secs=${1:-} i n
	(($# >= 2)) || tb_die "usage: tb_wait_for SECS CMD..."
	shift
	n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
	for ((i = 0; i <= n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- queries

tb_ns()
{
	[[ -n ${TB_HOST_NS[${1:-}]:-} ]] || tb_die "no such host '${1:-}'"
	echo "${TB_HOST_NS[$1]}"
}

tb_addr()
{
	local key="${1:-} ${2:-}" fam=${3:-4} a
	[[ -n ${TB_IFACE[$key]:-} ]] || tb_die "host '${1:-}' is not attached to net '${2:-}'"
	case $fam in
	4) a=${TB_ADDR4[$key]:-} ;;
	6) a=${TB_ADDR6[$key]:-} ;;
	*) tb_die "family must be 4 or 6" ;;
	esac
	[[ -n $a ]] || tb_die "host '$1' has no IPv$fam address on '$2'"
	echo "$a"
}

tb_if()
{
	local key="${1:-} ${2:-}"
	[[ -n ${TB_IFACE[$key]:-} ]] || tb_die "host '${1:-}' is not attached to net '${2:-}'"
	echo "${TB_IFACE[$key]}"
}

# ---------------------------------------------------------------- reporting

tb_ok()
{
	tb__need_owner
	TB_TAP_USED=1
	TB_NPASS=$((TB_NPASS + 1))
	echo "ok - $*"
}

tb_notok()
{
	local desc=${1:-}
	tb__need_owner
	TB_TAP_USED=1
	TB_NFAIL=$((TB_NFAIL + 1))
	echo "not ok - $desc"
	shift || true
	(($# == 0)) || echo "#   $*"
}

tb_check()
{
	local desc=${1:-} out
	(($# >= 2)) || tb_die "usage: tb_check DESC CMD..."
	shift
	if out=$("$@" 2>&1); then
		tb_ok "$desc"
	else
		tb_notok "$desc" "'$*' failed: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
	fi
}

tb__summary()
{
	TB_SUMMARY_DONE=1
	echo "$TB_NPASS passed, $TB_NFAIL failed"
}

tb_done()
{
	tb_cleanup
	tb__summary
	((TB_NFAIL == 0)) && exit 0
	exit 1
}

# Run as a program: "bash tests/netns/lib.sh reap".
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	case ${1:-} in
	reap) tb_reap_stale ;;
	*)
		echo "usage: bash ${BASH_SOURCE[0]} reap    (or source it from a test)" >&2
		exit 1
		;;
	esac
fi
