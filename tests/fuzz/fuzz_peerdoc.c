// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the node reads from the registry: agent_peer_from_doc and the
 * /v1/peers and /v1/events answer parsers, on arbitrary bytes (selector
 * byte 0..2), and on byte edits of a valid answer (selector 3, pairs of
 * offset and value), which reach the signature and summary checks that
 * random bytes never get to. They must not crash or leak; an accepted
 * document must keep its caps and verify again from its own text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/agent/peerdoc.h"
#include "agent/peer.h"
#include "agent/regclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NOW 1700000000ull

static struct rt_net net;
static char *valid; /* a peers answer with two good documents */
static size_t valid_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rt_peer a, b;
	char *da, *db;
	size_t n;

	if (rt_net_make(&net, NULL, NOW) ||
	    rt_peer_make(&a, &net, "alice", PROTO_ROLE_EDGE, 2, NOW - 1, NOW + 9, NULL, NULL) ||
	    rt_peer_make(&b, &net, "bob", PROTO_ROLE_EDGE, 3, NOW - 1, NOW + 9, NULL, NULL))
		abort();
	da = pd_text(pd_join(&a, "edge", "\"198.51.100.1:1\"", NOW));
	db = pd_text(pd_join(&b, "edge", "\"[2001:db8::1]:2\"", NOW));
	if (!da || !db)
		abort();
	n = strlen(da) + strlen(db) + 128;
	valid = malloc(n);
	if (!valid)
		abort();
	snprintf(valid, n, "{\"version\":3,\"full\":true,\"peers\":[%s,%s],\"left\":[\"carol\"]}",
		 da, db);
	valid_len = strlen(valid);
	free(da);
	free(db);
	return 0;
}

static void check_peer(const struct agent_peer *p)
{
	struct agent_peer again;

	if (p->n_endpoints > AGENT_MAX_ENDPOINTS || !p->doc || p->doc_len > AGENT_DOC_MAX ||
	    strlen(p->name) == 0 || strcmp(p->name, p->cert.name))
		abort();
	if (agent_peer_from_doc(p->doc, p->doc_len, &net.def, NULL, NOW, &again, NULL, 0))
		abort();
	agent_peer_clear(&again);
}

static void run(uint8_t sel, const char *s, size_t n)
{
	struct regclient_peers l;
	struct regclient_events e;
	struct agent_peer p;
	char why[160];
	size_t i;

	switch (sel) {
	case 0:
		why[0] = '\0';
		if (agent_peer_from_doc(s, n, &net.def, NULL, NOW, &p, why, sizeof(why)) == 0) {
			check_peer(&p);
			agent_peer_clear(&p);
		} else if (!why[0]) {
			abort(); /* every refusal says why */
		}
		break;
	case 1:
		if (regclient_parse_peers(s, n, &net.def, NULL, NOW, NULL, NULL, &l) == 0) {
			if (l.n > AGENT_PEERS_MAX || l.n_left > AGENT_LEFT_MAX)
				abort();
			for (i = 0; i < l.n; i++)
				check_peer(&l.peers[i]);
			regclient_peers_clear(&l);
		}
		break;
	default:
		if (regclient_parse_events(s, n, 2, &net.def, NULL, NOW, NULL, NULL, &e) == 0) {
			if (e.n > AGENT_EVENTS_MAX || (e.n && e.cursor < e.ev[e.n - 1].seq))
				abort();
			for (i = 0; i < e.n; i++) {
				if (e.ev[i].seq <= 2 || (i && e.ev[i].seq <= e.ev[i - 1].seq))
					abort();
				if (e.ev[i].type == RC_EV_JOIN || e.ev[i].type == RC_EV_MOVE)
					check_peer(&e.ev[i].doc);
				if (e.ev[i].kill_len > PROTO_RECORD_MAX)
					abort();
			}
			regclient_events_clear(&e);
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t i;

	if (size < 1)
		return 0;
	if (data[0] % 4 == 3) {
		/* edits of the valid answer: (offset hi, offset lo, value)... */
		s = malloc(valid_len + 1);
		if (!s)
			return 0;
		memcpy(s, valid, valid_len + 1);
		for (i = 1; i + 2 < size; i += 3)
			s[((size_t)data[i] << 8 | data[i + 1]) % valid_len] = (char)data[i + 2];
		run(1, s, valid_len);
		free(s);
		return 0;
	}
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	run(data[0] % 4, s, size - 1);
	free(s);
	return 0;
}
