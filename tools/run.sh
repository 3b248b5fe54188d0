#!/usr/bin/env bash
# Scope's one entry point for people and CI (README "Quick start").
#
#   tools/run.sh demo    install packages, build, run the demo
#   tools/run.sh test    install packages, build, run the whole test suite
#   tools/run.sh bench   install packages, build, run the benchmarks
#   tools/run.sh build   build only (no package installation)
#
# Knobs: SCOPE_FUZZ_SECONDS (default 20) per fuzz target; SCOPE_SKIP_DEPS=1
# skips apt-get (for machines that already have everything).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

deps() {
	[ "${SCOPE_SKIP_DEPS:-0}" = 1 ] && return 0
	[ "$(id -u)" = 0 ] || die "installing packages needs root (or set SCOPE_SKIP_DEPS=1)"
	local pkgs
	pkgs=$(grep -v '^[[:space:]]*#' tools/packages.txt | tr -s ' \n' ' ')
	log "installing Debian packages: $pkgs"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
}

# setup_dir DIR [meson args...]: configure once, reconfigure if options change.
setup_dir() {
	local dir=$1
	shift
	if [ -d "$dir" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

# ninja's progress is noise; its errors are not: show them on failure.
quiet_ninja() {
	local out
	out=$(mktemp)
	if ! ninja -C "$1" >"$out" 2>&1; then
		grep -E -A12 'FAILED|error' "$out" | head -60 >&2
		rm -f "$out"
		die "build in $1 failed"
	fi
	rm -f "$out"
}

build() {
	log "building (build/)"
	setup_dir build
	quiet_ninja build
}

build_asan() {
	log "building with ASan+UBSan (build-asan/)"
	setup_dir build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	quiet_ninja build-asan
}

build_fuzz() {
	log "building libFuzzer targets with clang (build-fuzz/)"
	if [ ! -d build-fuzz ]; then
		CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
			-Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
	fi
	quiet_ninja build-fuzz
}

# Tallies, added up from TAP lines ("ok", "not ok", "# SKIP") of every runner.
passed=0
failed=0
skipped=0

count_tap() {
	local f=$1 p fl s
	p=$(grep -Ec '^ok( |$)' "$f" || true)
	s=$(grep -Ec '^ok .*# SKIP' "$f" || true)
	fl=$(grep -Ec '^not ok' "$f" || true)
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + fl))
}

run_unit() {
	local dir=$1 name=$2 out
	out=$(mktemp)
	log "unit tests ($name)"
	# meson's exit status is checked through the TAP counts and its own summary.
	if ! meson test -C "$dir" --suite unit --print-errorlogs >"$out.summary" 2>&1; then
		cat "$out.summary" >&2
		if ! grep -q '^not ok' "$dir/meson-logs/testlog.txt"; then
			failed=$((failed + 1)) # a crash or timeout with no TAP failure line
		fi
	fi
	grep -E '^(Ok|Fail|Skipped|Timeout):' "$out.summary" >&2 || true
	count_tap "$dir/meson-logs/testlog.txt"
	rm -f "$out" "$out.summary"
}

run_lint() {
	log "lint: banned functions, layer edges, formatting"
	local f
	for f in tools/check-banned.sh tools/check-layers.sh tools/check-format.sh; do
		if bash "$f"; then
			printf 'ok - %s\n' "$f"
			passed=$((passed + 1))
		else
			printf 'not ok - %s\n' "$f"
			failed=$((failed + 1))
		fi
	done
}

run_fuzz() {
	local secs=${SCOPE_FUZZ_SECONDS:-20} t corpus
	for t in build-fuzz/tests/fuzz/fuzz-*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		corpus=$(mktemp -d)
		log "fuzz $(basename "$t") for ${secs}s"
		if "$t" -max_total_time="$secs" -print_final_stats=0 "$corpus" \
			>"$corpus.log" 2>&1; then
			printf 'ok - fuzz %s\n' "$(basename "$t")"
			passed=$((passed + 1))
		else
			tail -40 "$corpus.log" >&2
			printf 'not ok - fuzz %s\n' "$(basename "$t")"
			failed=$((failed + 1))
		fi
		rm -rf "$corpus" "$corpus.log"
	done
}

run_netns() {
	local t out
	[ "$(id -u)" = 0 ] || { log "netns tests skipped: need root"; return 0; }
	for t in tests/netns/*.sh; do
		case "$(basename "$t")" in lib*.sh) continue ;; esac
		out=$(mktemp)
		log "netns $(basename "$t")"
		if ! timeout 900 bash "$t" >"$out" 2>&1; then
			tail -60 "$out" >&2
			grep -q '^not ok' "$out" || failed=$((failed + 1))
		fi
		grep -E '^(ok|not ok)' "$out" | sed 's/^/  /' >&2 || true
		# netns scripts print "ok - ..." lines; count them like TAP.
		count_tap "$out"
		rm -f "$out"
	done
}

cmd_test() {
	deps
	build
	run_lint
	run_unit build plain
	build_asan
	run_unit build-asan asan+ubsan
	build_fuzz
	run_fuzz
	run_netns
	printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	[ "$failed" -eq 0 ]
}

cmd_demo() {
	deps
	build
	exec bash tools/demo.sh
}

cmd_bench() {
	deps
	build
	log "bench-kem"
	build/bench/bench-kem
	log "bench-registry"
	build/bench/bench-registry
	if [ "$(id -u)" = 0 ]; then
		log "wg_throughput.sh (scoped wg vs wireguard-go)"
		SCOPE_BUILD="$PWD/build" bash bench/wg_throughput.sh
		log "wg_handshakes.sh (scoped wg vs wireguard-go)"
		SCOPE_BUILD="$PWD/build" bash bench/wg_handshakes.sh
	else
		log "engine benchmarks skipped: need root (network namespaces)"
	fi
}

case "${1:-}" in
test) cmd_test ;;
demo) cmd_demo ;;
bench) cmd_bench ;;
build) build ;;
*) die "usage: tools/run.sh test|demo|bench|build" ;;
esac
