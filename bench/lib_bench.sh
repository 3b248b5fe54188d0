# shellcheck shell=bash
# bench/lib_bench.sh — what the netns benchmarks share. Source after
# tests/netns/lib.sh.
#
#   bench_iperf CLIENT SERVER DEST ARGS...  iperf3 for SCOPE_BENCH_SECS from
#                                   CLIENT to DEST (an address of SERVER);
#                                   sets MBPS, the receiver's Mbit/s (0 if
#                                   iperf3 failed)
#   bench_ratio A B                 A / B with two decimals, "n/a" if B is 0
#   bench_compare TITLE "C S DEST" "C S DEST" TEST...
#                                   each TEST (tcp1, tcp4, udp) on Scope's
#                                   hosts, then wireguard-go's, alternating;
#                                   prints the table with TITLE

bench_iperf() {
	local c=$1 s=$2 dst=$3
	shift 3
	MBPS=0
	tb_bg "$s" iperf3 -s -B "$dst" -1 >/dev/null 2>&1
	sleep 0.3
	tb_exec "$c" iperf3 -c "$dst" -t "${SCOPE_BENCH_SECS:-10}" -J "$@" \
		>"$TB_DIR/iperf.json" || return 0
	MBPS=$(python3 - "$TB_DIR/iperf.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["end"]
s = e.get("sum_received") or e.get("sum")
print(f'{s["bits_per_second"] / 1e6:.0f}')
PY
)
}

bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

bench_compare() {
	local title=$1 scope=$2 wggo=$3 t
	local -a args sc wg
	local -A mbps
	shift 3
	read -ra sc <<<"$scope"
	read -ra wg <<<"$wggo"
	for t in "$@"; do
		case $t in
		tcp1) args=() ;;
		tcp4) args=(-P 4) ;;
		udp) args=(-u -b 0 -l 1372) ;;
		*) tb_die "bench_compare: unknown test $t" ;;
		esac
		bench_iperf "${sc[@]}" "${args[@]}"
		mbps[scope.$t]=$MBPS
		bench_iperf "${wg[@]}" "${args[@]}"
		mbps[wggo.$t]=$MBPS
	done
	echo "# $title, $(nproc) cores, ${SCOPE_BENCH_SECS:-10}s per test (Mbit/s, iperf3 receiver)${SCOPE_WG_ARGS:+, scoped wg $SCOPE_WG_ARGS}"
	printf '%-28s %10s %12s %8s\n' test scope wireguard-go ratio
	for t in "$@"; do
		printf '%-28s %10s %12s %8s\n' "$t" "${mbps[scope.$t]}" "${mbps[wggo.$t]}" \
			"$(bench_ratio "${mbps[scope.$t]}" "${mbps[wggo.$t]}")"
	done
}
