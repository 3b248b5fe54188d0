#!/usr/bin/env bash
# Every C file matches .clang-format (clang-format 14 from Debian 12).
# Fix with: clang-format -i $(git ls-files '*.[ch]')
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed" >&2; exit 1; }
files=$(find src tests bench tools -name '*.[ch]' | sort)
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
