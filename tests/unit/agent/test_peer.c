// SPDX-License-Identifier: GPL-2.0-only
/*
 * agent_peer_from_doc: a node accepts a peer document only if the admin
 * signed the certificate and the peer signed the record, and refuses every
 * way a registry (or anyone between) could bend one: another admin, an
 * edited body, a swapped key in the summary, a record of another identity
 * or network, a revoked or expired certificate, malformed or oversized JSON.
 */
#include <errno.h>

#include "test.h"
#include "agent/peerdoc.h"
#include "agent/peer.h"

#define T0  1700000000ull
#define EPS "\"198.51.100.1:51820\",\"[2001:db8::1]:51820\""

static struct rt_net net;
static struct rt_peer alice, bob;

static int setup(void)
{
	static int done;

	if (done)
		return 0;
	done = 1;
	return rt_net_make(&net, NULL, T0 - 1000) ||
	       rt_peer_make(&alice, &net, "alice", PROTO_ROLE_EDGE | PROTO_ROLE_RELAY, 2, T0 - 100,
			    T0 + 100000, NULL, NULL) ||
	       rt_peer_make(&bob, &net, "bob", PROTO_ROLE_EDGE, 3, T0 - 100, T0 + 100000, NULL,
			    NULL);
}

/* agent_peer_from_doc on the text of o (released), at now, with rl. */
static int check_rl(json_t *o, const struct proto_revoke *rl, uint64_t now, struct agent_peer *out)
{
	struct agent_peer p;
	char why[160] = "", *s = pd_text(o);
	int r = s ? agent_peer_from_doc(s, strlen(s), &net.def, rl, now, &p, why, sizeof(why)) : -1;

	if (r)
		fprintf(stderr, "# refused: %d %s\n", r, why);
	if (!r && out)
		*out = p;
	else if (!r)
		agent_peer_clear(&p);
	free(s);
	return r;
}

static int check(json_t *o)
{
	return check_rl(o, NULL, T0, NULL);
}

static void test_good(void)
{
	struct agent_peer p;
	char *s;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(check_rl(pd_join(&alice, "relay", EPS, T0), NULL, T0, &p), 0);
	CHECK(strcmp(p.name, "alice") == 0);
	CHECK_EQ(p.role, PROTO_ROLE_RELAY);
	CHECK(p.role_signed);
	CHECK_MEM(p.cert.wgkey, alice.wg, 32);
	CHECK_MEM(p.cert.identity, alice.pub, 32);
	CHECK_EQ(p.n_endpoints, 2);
	CHECK_EQ(p.endpoints[0].family, 4);
	CHECK_EQ(p.endpoints[0].port, 51820);
	CHECK_EQ(p.endpoints[1].family, 6);
	CHECK_EQ(p.signed_at, T0);
	CHECK_EQ(p.tier, AGENT_TIER_NONE);
	CHECK_EQ(p.observed_family, 4);
	CHECK(p.doc && p.doc_len == strlen(p.doc) && p.doc[0] == '{');
	/* the document text is kept as received, and verifies again */
	s = strdup(p.doc);
	agent_peer_clear(&p);
	CHECK_EQ(agent_peer_from_doc(s, strlen(s), &net.def, NULL, T0, &p, NULL, 0), 0);
	CHECK(p.doc && strcmp(p.doc, s) == 0);
	agent_peer_clear(&p);
	free(s);
	agent_peer_clear(NULL);
}

/* A record is a past request: one signed long ago still proves the
 * endpoints, as long as the certificate is valid now. */
static void test_old_record(void)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(check_rl(pd_join(&alice, "edge", EPS, T0 - 50), NULL, T0 + 90000, NULL), 0);
}

/* An update's record does not name the role: the summary does, within the
 * certificate's roles. */
static void test_update_record(void)
{
	const char *body = "{\"endpoints\":[\"203.0.113.5:4000\"]}";
	struct agent_peer p;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(check_rl(pd_make(&alice, &alice, NULL, "/v1/update", body, "relay", T0), NULL, T0,
			  &p),
		 0);
	CHECK_EQ(p.role, PROTO_ROLE_RELAY);
	CHECK(!p.role_signed);
	CHECK_EQ(p.n_endpoints, 1);
	agent_peer_clear(&p);
	/* bob's certificate allows edge only */
	CHECK_EQ(check(pd_make(&bob, &bob, NULL, "/v1/update", body, "relay", T0)), -EPERM);
	CHECK_EQ(check(pd_make(&bob, &bob, NULL, "/v1/update", body, "boss", T0)), -EINVAL);
	/* a record of another kind of request proves nothing about endpoints */
	CHECK_EQ(check(pd_make(&bob, &bob, NULL, "/v1/kex", body, "edge", T0)), -EINVAL);
}

static void test_forged_cert(void)
{
	struct rt_peer mallory;
	uint8_t other_seed[32], other_pub[32];

	CHECK_EQ(setup(), 0);
	CHECK_EQ(cry_ed25519_genkey(other_seed, other_pub), 0);
	CHECK_EQ(rt_peer_make(&mallory, &net, "alice", PROTO_ROLE_EDGE, 2, T0 - 100, T0 + 1000,
			      other_seed, NULL),
		 0);
	CHECK_EQ(check(pd_join(&mallory, "edge", EPS, T0)), PROTO_ERR_SIG);
	/* a certificate of another network (right admin) */
	CHECK_EQ(rt_peer_make(&mallory, &net, "alice", PROTO_ROLE_EDGE, 2, T0 - 100, T0 + 1000,
			      NULL, "othernet"),
		 0);
	CHECK_EQ(check(pd_join(&mallory, "edge", EPS, T0)), PROTO_ERR_NETWORK);
}

static void test_swapped_summary(void)
{
	static const char *const fields[] = {
		"wgkey", "identity", "name", "addr4", "addr6", "roles"
	};
	static const char *const values[] = { "", "", "bob", "10.77.0.3", "fd00:77::3", "edge" };
	char key[CRY_KEY_B64_LEN + 1];
	json_t *o;
	size_t i;

	CHECK_EQ(setup(), 0);
	for (i = 0; i < SC_ARRAY_SIZE(fields); i++) {
		o = pd_join(&alice, "edge", EPS, T0);
		if (i < 2) {
			cry_key_to_b64(key, i == 0 ? bob.wg : bob.pub);
			json_object_set_new(o, fields[i], json_string(key));
		} else {
			json_object_set_new(o, fields[i], json_string(values[i]));
		}
		CHECK_EQ(check(o), -EBADMSG);
	}
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(o, "wgkey", json_integer(5));
	CHECK_EQ(check(o), -EBADMSG);
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(o, "not_after", json_integer(T0 + 5));
	CHECK_EQ(check(o), -EBADMSG);
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(o, "subnets", json_pack("[s]", "192.168.0.0/16"));
	CHECK_EQ(check(o), -EBADMSG);
	/* the summary claims another role than the signed join */
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(o, "role", json_string("relay"));
	CHECK_EQ(check(o), -EBADMSG);
	/* an endpoint in the summary that the peer never signed */
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(o, "endpoints",
			    json_pack("[s,s]", "198.51.100.1:51820", "203.0.113.66:51820"));
	CHECK_EQ(check(o), -EBADMSG);
	/* absent summary fields are not contradictions; the same set in
	 * another order is the same set */
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_del(o, "wgkey");
	json_object_set_new(o, "endpoints",
			    json_pack("[s,s]", "[2001:db8::1]:51820", "198.51.100.1:51820"));
	CHECK_EQ(check(o), 0);
}

static void test_edited_body(void)
{
	json_t *o, *rec;
	char *body;
	char *p;

	CHECK_EQ(setup(), 0);
	o = pd_join(&alice, "edge", EPS, T0);
	rec = json_object_get(o, "record");
	body = strdup(json_string_value(json_object_get(rec, "body")));
	p = strstr(body, "198.51.100.1");
	CHECK(p != NULL);
	if (p)
		p[11] = '9'; /* 198.51.100.9: still a valid endpoint */
	json_object_set_new(rec, "body", json_string(body));
	json_object_set_new(o, "endpoints",
			    json_pack("[s,s]", "198.51.100.9:51820", "[2001:db8::1]:51820"));
	CHECK_EQ(check(o), PROTO_ERR_SIG);
	free(body);
	/* the record moved to another path */
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(json_object_get(o, "record"), "uri", json_string("/v1/update"));
	CHECK_EQ(check(o), PROTO_ERR_SIG);
	/* another timestamp */
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(json_object_get(o, "record"), "timestamp", json_string("1700000001"));
	CHECK_EQ(check(o), PROTO_ERR_SIG);
}

static void test_other_identity(void)
{
	char *body;

	CHECK_EQ(setup(), 0);
	/* bob signs a join that carries alice's certificate */
	body = rt_join_body(&alice, "edge", EPS);
	CHECK_EQ(check(pd_make(&alice, &bob, NULL, "/v1/join", body, "edge", T0)), -EPERM);
	/* a record signed for another network */
	CHECK_EQ(check(pd_make(&alice, &alice, "othernet", "/v1/join", body, "edge", T0)),
		 PROTO_ERR_SIG);
	free(body);
}

/* The admin issued alice a second certificate; a registry that pairs the
 * new certificate with a join record of the old one is caught. */
static void test_other_cert_in_join(void)
{
	struct rt_peer alice2 = alice;
	char *body = rt_join_body(&alice, "edge", EPS);
	struct proto_cert c;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(proto_cert_decode(&c, alice.cert, alice.cert_len), 0);
	c.serial = 77;
	c.wgkey[0] ^= 1;
	CHECK_EQ(proto_cert_sign(&c, net.admin_seed), 0);
	CHECK_EQ(proto_cert_encode(&c, alice2.cert, sizeof(alice2.cert), &alice2.cert_len), 0);
	CHECK_EQ(check(pd_make(&alice2, &alice, NULL, "/v1/join", body, "edge", T0)), -EBADMSG);
	free(body);
}

static void test_revoked(void)
{
	struct proto_revoke *rl = NULL;

	CHECK_EQ(setup(), 0);
	CHECK_EQ(proto_revoke_new(&rl, net.def.name, 1, T0), 0);
	CHECK_EQ(proto_revoke_add(rl, PROTO_REVOKE_CERT, bob.fp), 0);
	CHECK_EQ(proto_revoke_sign(rl, net.admin_seed), 0);
	CHECK_EQ(check_rl(pd_join(&alice, "edge", EPS, T0), rl, T0, NULL), 0);
	CHECK_EQ(check_rl(pd_join(&bob, "edge", EPS, T0), rl, T0, NULL), PROTO_ERR_REVOKED);
	proto_revoke_free(rl);
	CHECK_EQ(proto_revoke_new(&rl, net.def.name, 2, T0), 0);
	CHECK_EQ(proto_revoke_add(rl, PROTO_REVOKE_IDENTITY, alice.pub), 0);
	CHECK_EQ(proto_revoke_sign(rl, net.admin_seed), 0);
	CHECK_EQ(check_rl(pd_join(&alice, "edge", EPS, T0), rl, T0, NULL), PROTO_ERR_REVOKED);
	proto_revoke_free(rl);
}

static void test_expired(void)
{
	CHECK_EQ(setup(), 0);
	CHECK_EQ(check_rl(pd_join(&alice, "edge", EPS, T0), NULL, T0 + 100000, NULL),
		 PROTO_ERR_EXPIRED);
	CHECK_EQ(check_rl(pd_join(&alice, "edge", EPS, T0), NULL, T0 - 101, NULL),
		 PROTO_ERR_NOTYET);
}

static int text_check(const char *s)
{
	struct agent_peer p;
	char why[160] = "";
	int r = agent_peer_from_doc(s, strlen(s), &net.def, NULL, T0, &p, why, sizeof(why));

	if (!r)
		agent_peer_clear(&p);
	CHECK(r == 0 || why[0] != '\0');
	return r;
}

static int text_check_len(const char *s, size_t len)
{
	struct agent_peer p;
	int r = agent_peer_from_doc(s, len, &net.def, NULL, T0, &p, NULL, 0);

	if (!r)
		agent_peer_clear(&p);
	return r;
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"null",
		"\"x\"",
		"{\"name\":\"alice\"}",
		"{\"cert\":\"AAAA\",\"record\":{}}",
		"{\"cert\":5,\"record\":{}}",
		"{\"cert\":\"!!!!\"}",
		"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
	};
	char *s, *dup;
	json_t *o;
	size_t i;

	CHECK_EQ(setup(), 0);
	for (i = 0; i < SC_ARRAY_SIZE(bad); i++)
		CHECK_EQ(text_check(bad[i]), -EINVAL);
	/* a good document cut short */
	s = pd_text(pd_join(&alice, "edge", EPS, T0));
	s[strlen(s) - 1] = '\0';
	CHECK_EQ(text_check(s), -EINVAL);
	/* a duplicate key: two parsers could read two different values */
	dup = malloc(strlen(s) + 64);
	snprintf(dup, strlen(s) + 64, "{\"wgkey\":\"x\",%s}", s + 1);
	CHECK_EQ(text_check(dup), -EINVAL);
	free(dup);
	free(s);
	/* no record, a record without a signature, a body that is not JSON */
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_del(o, "record");
	CHECK_EQ(check(o), -EINVAL);
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_del(json_object_get(o, "record"), "signature");
	CHECK_EQ(check(o), -EINVAL);
	CHECK_EQ(check(pd_make(&alice, &alice, NULL, "/v1/update", "{\"endpoints\":[5]}", "edge",
			       T0)),
		 -EINVAL);
	CHECK_EQ(check(pd_make(&alice, &alice, NULL, "/v1/update",
			       "{\"endpoints\":[\"1.2.3.4:5\",\"1.2.3.4:5\"]}", "edge", T0)),
		 -EINVAL);
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(o, "tier", json_string("boss"));
	CHECK_EQ(check(o), -EINVAL);
	o = pd_join(&alice, "edge", EPS, T0);
	json_object_set_new(o, "observed_ip", json_string("not-an-ip"));
	CHECK_EQ(check(o), -EINVAL);
}

static void test_caps(void)
{
	char eps[17 * 32] = "", *big, *s;
	size_t i, n;

	CHECK_EQ(setup(), 0);
	for (i = 0; i < 16; i++)
		snprintf(eps + strlen(eps), sizeof(eps) - strlen(eps), "%s\"198.51.100.%zu:1\"",
			 i ? "," : "", i + 1);
	CHECK_EQ(check(pd_join(&alice, "edge", eps, T0)), 0);
	snprintf(eps + strlen(eps), sizeof(eps) - strlen(eps), ",\"198.51.100.99:1\"");
	CHECK_EQ(check(pd_join(&alice, "edge", eps, T0)), -EINVAL);
	/* a document over AGENT_DOC_MAX is refused before parsing */
	s = pd_text(pd_join(&alice, "edge", EPS, T0));
	n = AGENT_DOC_MAX + 1;
	big = malloc(n + 1);
	memset(big, ' ', n);
	memcpy(big, s, strlen(s));
	big[n] = '\0';
	CHECK_EQ(text_check(big), -EMSGSIZE);
	/* the same padding within the cap is fine JSON */
	CHECK_EQ(text_check_len(big, AGENT_DOC_MAX), 0);
	free(big);
	free(s);
}

static void count_refusal(void *ctx, const char *peer, int err, const char *why)
{
	(*(int *)ctx)++;
	CHECK_EQ(err, -EEXIST);
	CHECK(strcmp(peer, "alice") == 0);
}

/* Two documents of one name: the newest record stays. */
static void test_dedup(void)
{
	struct agent_peer ps[3];
	char *s;
	int n = 0;
	size_t i;

	CHECK_EQ(setup(), 0);
	for (i = 0; i < 3; i++) {
		s = pd_text(i == 1 ? pd_join(&bob, "edge", EPS, T0)
				   : pd_join(&alice, "edge", EPS, T0 + i));
		CHECK_EQ(agent_peer_from_doc(s, strlen(s), &net.def, NULL, T0, &ps[i], NULL, 0), 0);
		free(s);
	}
	CHECK_EQ(agent_peers_dedup(ps, 3, count_refusal, &n), 2);
	CHECK_EQ(n, 1);
	CHECK(strcmp(ps[0].name, "alice") == 0 && ps[0].signed_at == T0 + 2);
	CHECK(strcmp(ps[1].name, "bob") == 0);
	CHECK(ps[2].doc == NULL);
	for (i = 0; i < 3; i++)
		agent_peer_clear(&ps[i]);
}

static const struct t_case cases[] = {
	T(test_good),		T(test_old_record),	    T(test_update_record),
	T(test_forged_cert),	T(test_swapped_summary),    T(test_edited_body),
	T(test_other_identity), T(test_other_cert_in_join), T(test_revoked),
	T(test_expired),	T(test_malformed),	    T(test_caps),
	T(test_dedup),
};

int main(void)
{
	return t_main("agent-peer", cases, SC_ARRAY_SIZE(cases));
}
