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
#                                 tc netem on HOST's IFACE egress (-b: also the
#                                 switch side, i.e. traffic towards HOST)
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
#   $TB_DIR, $TB_PREFIX, $TB_PROBE (path of udp_probe.py)
# Reporting (TAP-like)
#   tb_ok DESC | tb_notok DESC [DIAG...] | tb_check DESC CMD... | tb_note MSG
#   tb_done                       clean up, print "N passed, M failed", exit 0/1
#   tb_die MSG                    error on stderr, exit 1 (the trap cleans up)
#
# Rules: call the functions that create or count something (everything but
# the queries) from the main shell, never inside $(...), a pipeline or ( ):
# a subshell's changes to the registry would be lost.  They refuse to run there.

TB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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
TB_PORTN=0
declare -gA TB_HOST_NS=()	# host -> namespace
declare -gA TB_NET_BR=()	# net -> bridge (in the switch namespace)
declare -gA TB_IFACE=()		# "host net" -> interface in the host namespace
declare -gA TB_PORT=()		# "host net" -> bridge port in the switch namespace
declare -gA TB_ADDR4=()		# "host net" -> IPv4 address, no length
declare -gA TB_ADDR6=()		# "host net" -> IPv6 address, no length
declare -gA TB_NATKIND=()	# nat host -> kind
declare -ga TB_PIDS=()		# tb_bg processes
declare -ga TB_DEFERRED=()	# tb_defer commands

# ---------------------------------------------------------------- errors

tb_die()
{
	local where="${BASH_SOURCE[2]:-?}:${BASH_LINENO[1]:-?}"
	echo "tb: error: ${FUNCNAME[1]:-main}: $* (called from $where)" >&2
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
		echo "tb: error: $what: '$*' failed: ${err:-no message}" >&2
		exit 1
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
	local try p
	(($# == 0)) || tb_die "usage: tb_init"
	[[ -z $TB_PREFIX ]] || tb_die "tb_init called twice"
	((EUID == 0)) || tb_die "the test bed needs root (network namespaces)"
	tb_require ip tc nft python3 timeout sysctl
	TB_OWNER=$BASHPID
	trap 'tb__on_exit' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Claim the prefix: "ip netns add" fails if the name exists, so two runs
	# that draw the same prefix cannot both get it; leftovers of an aborted
	# run (any "<prefix>-*") make us draw again.
	for try in {1..32}; do
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
	# The switch only bridges: no IPv6 (no link-local chatter), no forwarding.
	tb__sysctl "$TB_SWITCH" net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
	tb__run "tb_init" ip -n "$TB_SWITCH" link set lo up
	tb_note "test bed prefix $TB_PREFIX, files in $TB_DIR"
}

tb_defer()
{
	tb__need_init
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
	kill -TERM "$@" 2>/dev/null
	for i in {1..20}; do
		left=0
		for pid in "$@"; do
			tb__alive "$pid" && left=1
		done
		((left)) || return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null
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
	TB_HOST_NS=() TB_NET_BR=() TB_IFACE=() TB_PORT=() TB_ADDR4=() TB_ADDR6=() TB_NATKIND=()
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	return 0
}

tb__on_exit()
{
	local rc=$?
	[[ $BASHPID == "$TB_OWNER" ]] || return 0
	if ((TB_TAP_USED && !TB_SUMMARY_DONE && rc != 0)); then
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
	local ns=$1 kv
	shift
	for kv in "$@"; do
		tb__run "sysctl in $ns" ip netns exec "$ns" sysctl -qw "$kv"
	done
}

tb_host()
{
	local name=${1:-} ns
	(($# == 1)) || tb_die "usage: tb_host NAME"
	tb__need_init
	tb__valid_name host "$name" 32
	[[ $name != switch ]] || tb_die "'switch' is reserved"
	[[ -z ${TB_HOST_NS[$name]:-} ]] || tb_die "host '$name' already exists"
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
	br="$TB_PREFIX-$name"
	tb__run "tb_net $name" ip -n "$TB_SWITCH" link add "$br" type bridge \
		stp_state 0 forward_delay 0
	tb__run "tb_net $name" ip -n "$TB_SWITCH" link set "$br" up
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
	ns=${TB_HOST_NS[$host]}
	TB_PORTN=$((TB_PORTN + 1))
	port="${TB_PREFIX}p$TB_PORTN"
	# Both ends are born in their namespaces: nothing touches the root one.
	tb__run "tb_attach $host $net" ip -n "$ns" link add "$net" type veth \
		peer name "$port" netns "$TB_SWITCH"
	TB_IFACE[$key]=$net
	TB_PORT[$key]=$port
	tb__run "tb_attach $host $net" ip -n "$TB_SWITCH" link set "$port" \
		master "${TB_NET_BR[$net]}" up
	if [[ $a4 != - ]]; then
		tb__run "tb_attach $host $net" ip -n "$ns" addr add "$a4" dev "$net"
		TB_ADDR4[$key]=${a4%/*}
	fi
	if [[ -n $a6 ]]; then
		tb__run "tb_attach $host $net" ip -n "$ns" -6 addr add "$a6" dev "$net" nodad
		TB_ADDR6[$key]=${a6%/*}
	fi
	tb__run "tb_attach $host $net" ip -n "$ns" link set "$net" up
}

tb_route()
{
	local host=${1:-} dest=${2:-} gw=${4:-} fam=-4
	(($# >= 4)) && [[ $3 == via ]] || tb_die "usage: tb_route HOST DEST|default via GW [ARGS...]"
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
	TB_NATKIND[$name]=$kind
}

tb_netem()
{
	local both=0 host iface ns key
	local -a spec
	if [[ ${1:-} == -b ]]; then
		both=1
		shift
	fi
	(($# >= 3)) || tb_die "usage: tb_netem [-b] HOST IFACE 'delay 50ms loss 1%'|off"
	host=$1 iface=$2
	shift 2
	tb__need_init
	tb__need_host "$host"
	ns=${TB_HOST_NS[$host]}
	read -r -a spec <<<"$*"
	((${#spec[@]} > 0)) || tb_die "empty netem spec"
	if [[ ${spec[0]} == off ]]; then
		ip -n "$ns" link show "$iface" >/dev/null 2>&1 ||
			tb_die "host '$host' has no interface '$iface'"
		ip netns exec "$ns" tc qdisc del dev "$iface" root 2>/dev/null || true
	else
		tb__run "tb_netem $host $iface" ip netns exec "$ns" tc qdisc replace \
			dev "$iface" root netem "${spec[@]}"
	fi
	((both)) || return 0
	key="$host $iface"
	[[ -n ${TB_PORT[$key]:-} ]] || tb_die "-b needs IFACE to be a net '$host' is attached to"
	if [[ ${spec[0]} == off ]]; then
		ip netns exec "$TB_SWITCH" tc qdisc del dev "${TB_PORT[$key]}" root 2>/dev/null || true
	else
		tb__run "tb_netem $host $iface (switch side)" ip netns exec "$TB_SWITCH" \
			tc qdisc replace dev "${TB_PORT[$key]}" root netem "${spec[@]}"
	fi
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
	tb__need_host "$host"
	shift
	# "ip netns exec" execs CMD, so $! is CMD's own PID.
	ip netns exec "${TB_HOST_NS[$host]}" "$@" &
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
	tb__tracked "$1" || tb_die "PID $1 was not started by tb_bg"
	tb__stop_pids "$1"
	wait "$1" 2>/dev/null || true
}

tb_wait_pid()
{
	local pid=${1:-} secs=${2:-} i n rc=0
	(($# == 2)) || tb_die "usage: tb_wait_pid PID SECS"
	tb__need_init
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
