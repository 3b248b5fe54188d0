// SPDX-License-Identifier: GPL-2.0-only
/*
 * The KEX driver's view of a peer in the status document and the registry
 * report (agent/pqstatus.h), shared by managed and PSK-only mode: each
 * field lands where `scopectl status` and the registry read it, version 0
 * is "no PQ PSK" (null in the document), an age never goes negative, the
 * fields the caller filled stay, and the JSON shows what the struct says.
 */
#include <jansson.h>

#include "agent/pqstatus.h"
#include "common/compiler.h"
#include "test.h"

static struct kexd_peer_status ks_of(uint32_t state, uint64_t active, uint64_t working, size_t kept,
				     uint32_t classical, uint64_t since, uint64_t reverts)
{
	struct kexd_peer_status ks;

	memset(&ks, 0, sizeof(ks));
	snprintf(ks.name, sizeof(ks.name), "bravo");
	ks.psk.state = state;
	ks.psk.active = active;
	ks.psk.working = working;
	ks.psk.n_kept = kept;
	ks.classical = classical;
	ks.active_since_s = since;
	ks.reverts = reverts;
	return ks;
}

static const struct {
	uint32_t state;
	uint64_t active, working;
	size_t kept;
	uint32_t classical;
	uint64_t since, reverts, now;
	/* expected */
	bool has_psk;
	uint64_t age;
	bool pq;
} cases[] = {
	/* No PQ PSK yet: the first exchange runs. */
	{ POL_PSK_STATE_EXCHANGE, 0, 0, 0, 2, 0, 0, 1700000000, false, 0, false },
	/* Version 7 active for 42 s, the last proven one 6. */
	{ POL_PSK_STATE_ACTIVE, 7, 6, 3, 2, 1700000000, 0, 1700000042, true, 42, true },
	/* Confirmed v8 waits for its activation: v7 still active, pq false. */
	{ POL_PSK_STATE_CONFIRMED, 7, 7, 3, 1, 1700000000, 2, 1700000010, true, 10, false },
	/* The wall clock went back past the install: age 0, not a wrap. */
	{ POL_PSK_STATE_ACTIVE, 2, 2, 2, 0, 1700000100, 1, 1700000000, true, 0, true },
	/* Installed this very second. */
	{ POL_PSK_STATE_ACTIVE, 1, 0, 1, 2, 1700000000, 0, 1700000000, true, 0, true },
};

static void test_status_fields(void)
{
	for (size_t i = 0; i < SC_ARRAY_SIZE(cases); i++) {
		struct kexd_peer_status ks =
			ks_of(cases[i].state, cases[i].active, cases[i].working, cases[i].kept,
			      cases[i].classical, cases[i].since, cases[i].reverts);
		struct agent_status_peer sp;

		memset(&sp, 0, sizeof(sp));
		snprintf(sp.name, sizeof(sp.name), "bravo");
		sp.rx_bytes = 1234;
		sp.has_handshake = true;
		sp.handshake_age = 17;
		agent_pqstatus_peer(&sp, &ks, cases[i].now);
		CHECK(sp.has_kex);
		CHECK_EQ(sp.pq_state, cases[i].state);
		CHECK_EQ(sp.classical, cases[i].classical);
		CHECK_EQ(sp.psk_kept, cases[i].kept);
		CHECK_EQ(sp.psk_reverts, cases[i].reverts);
		CHECK_EQ(sp.psk_working, cases[i].working);
		CHECK_EQ(sp.has_psk, cases[i].has_psk);
		CHECK_EQ(sp.psk_version, cases[i].has_psk ? cases[i].active : 0);
		CHECK_EQ(sp.psk_age_s, cases[i].age);
		/* What the caller filled from its backend stays. */
		CHECK(!strcmp(sp.name, "bravo"));
		CHECK_EQ(sp.rx_bytes, 1234);
		CHECK(sp.has_handshake);
		CHECK_EQ(sp.handshake_age, 17);
	}
}

static void test_report_fields(void)
{
	for (size_t i = 0; i < SC_ARRAY_SIZE(cases); i++) {
		struct kexd_peer_status ks =
			ks_of(cases[i].state, cases[i].active, cases[i].working, cases[i].kept,
			      cases[i].classical, cases[i].since, cases[i].reverts);
		struct regclient_report_peer rp;

		memset(&rp, 0, sizeof(rp));
		snprintf(rp.peer, sizeof(rp.peer), "bravo");
		rp.reach = RC_REACH_NONE;
		rp.handshake = true;
		agent_pqstatus_report(&rp, &ks);
		CHECK(rp.has_kex);
		CHECK_EQ(rp.kex_version, cases[i].active);
		CHECK_EQ(rp.classical, cases[i].classical);
		CHECK_EQ(rp.pq_state, cases[i].state);
		CHECK_EQ(rp.pq, cases[i].pq);
		/* Reachability is the caller's (its backend's) word. */
		CHECK_EQ(rp.reach, RC_REACH_NONE);
		CHECK(rp.handshake);
		CHECK(!strcmp(rp.peer, "bravo"));
	}
}

/* What `scopectl status --json` prints for the two ends of the table:
 * without a PQ PSK the version and age are null but the KEX fields are
 * numbers; with one, all of them are. */
static void test_status_json(void)
{
	struct kexd_peer_status none = ks_of(POL_PSK_STATE_EXCHANGE, 0, 0, 0, 1, 0, 0);
	struct kexd_peer_status v7 = ks_of(POL_PSK_STATE_ACTIVE, 7, 6, 3, 2, 1700000000, 1);
	struct agent_status st;
	struct agent_status_peer sp;
	json_t *doc, *p;
	char *s;

	memset(&st, 0, sizeof(st));
	snprintf(st.network, sizeof(st.network), "pq");
	snprintf(st.ifname, sizeof(st.ifname), "wg0");
	snprintf(st.registry, sizeof(st.registry), "off");
	memset(&sp, 0, sizeof(sp));
	snprintf(sp.name, sizeof(sp.name), "bravo");
	agent_pqstatus_peer(&sp, &none, 1700000000);
	CHECK_EQ(agent_status_add_peer(&st, &sp), 0);
	memset(&sp, 0, sizeof(sp));
	snprintf(sp.name, sizeof(sp.name), "charlie");
	agent_pqstatus_peer(&sp, &v7, 1700000042);
	CHECK_EQ(agent_status_add_peer(&st, &sp), 0);
	s = agent_status_json(&st);
	CHECK(s != NULL);
	doc = s ? json_loads(s, 0, NULL) : NULL;
	CHECK(doc != NULL);
	p = json_array_get(json_object_get(doc, "peers"), 0);
	CHECK(json_is_null(json_object_get(p, "psk_version")));
	CHECK(json_is_null(json_object_get(p, "psk_age_s")));
	CHECK_EQ(json_integer_value(json_object_get(p, "pq_state")), 1);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_kept")), 0);
	CHECK_EQ(json_integer_value(json_object_get(p, "classical")), 1);
	p = json_array_get(json_object_get(doc, "peers"), 1);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_version")), 7);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_age_s")), 42);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_working")), 6);
	CHECK_EQ(json_integer_value(json_object_get(p, "pq_state")), 3);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_kept")), 3);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_reverts")), 1);
	json_decref(doc);
	free(s);
	agent_status_reset(&st);
}

int main(void)
{
	static const struct t_case tc[] = {
		T(test_status_fields),
		T(test_report_fields),
		T(test_status_json),
	};

	return t_main("agent-pqstatus", tc, SC_ARRAY_SIZE(tc));
}
