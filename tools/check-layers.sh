#!/usr/bin/env bash
# The layer graph of STYLE.md section 1: a layer may include headers only of
# itself and of the layers listed for it. Meson links each layer against the
# same list; this check catches an #include that would cross a boundary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

declare -A allowed=(
	[common]=""
	[crypto]="common"
	[wg]="crypto common"
	[io]="wg crypto common"
	[uapi]="wg io crypto common"
	[proto]="crypto common"
	[policy]="proto crypto common"
	[agent]="policy proto uapi io wg crypto common"
	[registry]="policy proto crypto common"
	[proxy]="wg io crypto common"
	[ctl]="proto crypto common"
	[sim]="policy proto crypto common"
	[bin]="*"
)

status=0
for dir in src/*/; do
	layer=$(basename "$dir")
	if [ -z "${allowed[$layer]+x}" ]; then
		echo "check-layers: unknown layer src/$layer (add it to tools/check-layers.sh)" >&2
		status=1
		continue
	fi
	[ "${allowed[$layer]}" = "*" ] && continue
	while IFS=: read -r file line inc; do
		dep=${inc%%/*}
		[ "$dep" = "$layer" ] && continue
		case " ${allowed[$layer]} " in
		*" $dep "*) ;;
		*)
			echo "check-layers: $file:$line: $layer may not include $inc" >&2
			status=1
			;;
		esac
	done < <(grep -nHoE '^#include "[a-z_]+/[^"]+"' "$dir" -r --include='*.[ch]' |
		sed -E 's/#include "([^"]+)"/\1/')
done
exit $status
