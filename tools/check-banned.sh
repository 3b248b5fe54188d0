#!/usr/bin/env bash
# Refuse functions STYLE.md section 9 bans: strcpy, strcat, sprintf, vsprintf,
# gets, atoi/atol/atoll, rand/srand, and VLAs (caught by -Wvla at build time).
# memcmp is banned on secrets; since a checker cannot tell what is secret,
# every memcmp in src/ needs a "not secret" comment on the same line.
# Unchecked strtol is avoided by not using strto* in src/ at all outside
# common/parse.c.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0
files=$(find src bench tests/fuzz -name '*.[ch]' 2>/dev/null | sort)
[ -n "$files" ] || exit 0

report() {
	printf 'check-banned: %s\n' "$1" >&2
	status=1
}

# Strip // comments and string literals crudely before matching.
while IFS= read -r hit; do
	report "banned call: $hit"
done < <(grep -nE '(^|[^_a-zA-Z0-9])(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|rand|srand)[[:space:]]*\(' $files |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|//|/\*)' || true)

while IFS= read -r hit; do
	report "memcmp without a 'not secret' note: $hit"
done < <(grep -nE '(^|[^_a-zA-Z0-9])memcmp[[:space:]]*\(' $(find src -name '*.[ch]') |
	grep -v 'not secret' || true)

while IFS= read -r hit; do
	report "strto* outside common/parse.c: $hit"
done < <(grep -nE '(^|[^_a-zA-Z0-9])strto(l|ll|ul|ull|d|f|imax|umax)[[:space:]]*\(' \
	$(find src -name '*.[ch]' ! -path src/common/parse.c) || true)

exit $status
