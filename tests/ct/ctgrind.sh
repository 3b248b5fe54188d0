#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Constant-time check (suites 'ct' and 'unit'), TAP output: runs a ctgrind
# program under valgrind's memcheck, where the program has marked its
# secrets undefined. Any branch or memory index computed from a secret is a
# memcheck error, and --error-exitcode turns it into a failure. Valgrind
# does not see variable-time instructions, so the binary's disassembly must
# also hold no division (KyberSlash: a DIV on a secret leaks its timing).
#
# usage: ctgrind.sh [PROGRAM]   (no PROGRAM: not built here, reported as SKIP)
set -u

prog=${1:-}
if [ -z "$prog" ]; then
	echo "1..0 # SKIP ctgrind program not built (no valgrind/memcheck.h, or a sanitizer build)"
	exit 0
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind not installed"
	exit 0
fi
echo "1..2"

if ! command -v objdump >/dev/null 2>&1; then
	echo "ok 1 - division check # SKIP objdump not installed"
else
	# Each function holding a div/idiv (integer division) instruction.
	divs=$(objdump -d --no-show-raw-insn "$prog" | awk '
		/^[0-9a-f]+ <.*>:$/ { fn = $2; sub(/:$/, "", fn) }
		$2 ~ /^i?div[bwlq]?$/ { print fn ": " $0 }')
	if [ -n "$divs" ]; then
		echo "$divs" | sed 's/^/# /'
		echo "not ok 1 - no division instruction in $prog"
	else
		echo "ok 1 - no division instruction in $prog"
	fi
fi

# Valgrind 3.19 (Debian 12) cannot read clang 14's DWARF 5 and gives up;
# run a clang binary without its debug info (reports keep function names).
run=$prog
if readelf -p .comment "$prog" 2>/dev/null | grep -q 'clang version'; then
	run=$(mktemp) || exit 1
	trap 'rm -f "$run"' EXIT
	objcopy --strip-debug "$prog" "$run" && chmod +x "$run" || exit 1
	echo "# clang binary: running a copy without debug info"
fi
log=$(mktemp) || exit 1
if valgrind -q --error-exitcode=1 --track-origins=yes --leak-check=no "$run" >"$log" 2>&1; then
	sed 's/^/# /' "$log"
	echo "ok 2 - valgrind memcheck: no branch or memory index depends on a secret"
else
	sed 's/^/# /' "$log"
	echo "not ok 2 - valgrind memcheck: no branch or memory index depends on a secret"
fi
rm -f "$log"
exit 0
