#!/usr/bin/env bash
# Scope's demo until the node daemon lands (issue 6): Scope's keys checked
# against wg(8), then the network test bed — hosts in network namespaces
# behind the three NAT kinds Scope must cope with — showing how each NAT maps
# and filters UDP. Everything it creates is removed on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ctl=build/src/bin/scopectl
[ -x "$ctl" ] || { echo "demo: build first (bash tools/run.sh build)" >&2; exit 1; }

echo "== Keys: scopectl and wg(8) agree"
priv=$("$ctl" genkey)
pub=$(printf '%s\n' "$priv" | "$ctl" pubkey)
wgpub=$(printf '%s\n' "$priv" | wg pubkey)
echo "scopectl pubkey: $pub"
echo "wg pubkey:       $wgpub"
[ "$pub" = "$wgpub" ] || { echo "demo: key mismatch" >&2; exit 1; }

echo
echo "== Network test bed: full-cone, port-restricted and symmetric NAT"
exec bash tests/netns/testbed_nat.sh
