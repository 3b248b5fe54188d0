# shellcheck shell=bash
# tests/netns/lib_pq.sh — helpers of the post-quantum PSK tests (issue 7):
# a master relay and one edge on one segment, rotating PSKs every few
# seconds with the test-only timing keys. Source after lib.sh and lib_scope.sh.
#
#   pq_setup [LINE...]        underlay, network and configs of m and e1;
#                             LINEs go to both configs' [Scope] section
#   pq_start                  the registry, then m, then e1
#   pq_pair [LINE...]         pq_setup and pq_start
#   pq_version NAME PEER      NAME's active PSK version with PEER (0: none)
#   pq_field NAME PEER FIELD  one field of that peer in NAME's status --json
#   pq_disk_versions NAME PEER  versions in NAME's state directory for PEER
#   pq_disk_key NAME PEER V   base64 PSK of version V on NAME's disk
#   pq_loss FILE              "transmitted received" of a ping output

pq_setup() {
	tb_net inet
	tb_host reg
	tb_attach reg inet 203.0.113.10/24
	tb_host m
	tb_attach m inet 203.0.113.1/24
	tb_host e1
	tb_attach e1 inet 203.0.113.11/24
	sc_keys m
	sc_network demo 10.77.0.0/24 fd77::/64 http://203.0.113.10:8470 m 203.0.113.1:51820
	sc_node m master 10.77.0.1 fd77::1
	sc_node e1 edge 10.77.0.11 fd77::11
	local n
	for n in m e1; do
		sc_scope_keys "$n" "$@"
	done
}

pq_start() {
	sc_registry reg 203.0.113.10:8470
	sc_start_logged m m
	sc_wait_registry m || tb_notok "the master relay reports the registry reachable"
	sc_start_logged e1 e1
}

pq_pair() {
	pq_setup "$@"
	pq_start
}

pq_field() {
	sc_status_json "$1" 2>/dev/null |
		jq -r --arg p "$2" --arg f "$3" '.peers[] | select(.name == $p) | .[$f] // empty'
}

pq_version() {
	local v
	v=$(pq_field "$1" "$2" psk_version)
	echo "${v:-0}"
}

# The PSK file of NAME for PEER (docs/pq.md "Persistence").
pq__file() {
	echo "$SC_DIR/state-$1/psk/$2"
}

pq_disk_versions() {
	local f
	f=$(pq__file "$1" "$2")
	[[ -f $f ]] || return 0
	awk '$1 == "psk" { print $2 }' "$f"
}

pq_disk_key() {
	local f
	f=$(pq__file "$1" "$2")
	[[ -f $f ]] || return 0
	awk -v v="$3" '$1 == "psk" && $2 == v { print $NF }' "$f"
}

pq_loss() {
	awk '/packets transmitted/ { print $1, $4 }' "$1"
}
