/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Peer documents as the registry builds them (src/registry/peers.c
 * doc_build), made here from a certified peer and a request it signed, so
 * the agent tests can present good ones and every kind of forgery.
 */
#ifndef AGENT_PEERDOC_H
#define AGENT_PEERDOC_H

#include <jansson.h>

#include "../registry/regtest.h"
#include "crypto/keys.h"

/* A document for the certificate of owner whose record is the request
 * (uri, body) signed by signer at ts for network (NULL: owner's network
 * RT_NET). role is the summary's role. NULL on failure. */
SC_UNUSED static json_t *pd_make(const struct rt_peer *owner, const struct rt_peer *signer,
				 const char *network, const char *uri, const char *body,
				 const char *role, uint64_t ts)
{
	struct proto_sigreq_hdr h;
	struct proto_cert c;
	char key[CRY_KEY_B64_LEN + 1], addr[PROTO_ADDR_STRLEN], roles[18], pfx[PROTO_PREFIX_STRLEN];
	char *cert64 = malloc(SC_B64_LEN(owner->cert_len) + 1);
	json_t *o = NULL, *b = NULL, *subnets = json_array();
	size_t i;

	if (!cert64 || !subnets || proto_cert_decode(&c, owner->cert, owner->cert_len) ||
	    rt_sign(signer, network ? network : RT_NET, "POST", uri, body, strlen(body), ts, &h))
		goto out;
	b = json_loads(body, 0, NULL);
	if (!b)
		goto out;
	sc_b64_encode(cert64, owner->cert, owner->cert_len);
	for (i = 0; i < c.n_subnets; i++) {
		proto_prefix_format(pfx, &c.subnets[i]);
		json_array_append_new(subnets, json_string(pfx));
	}
	proto_roles_format(roles, c.roles);
	o = json_object();
	json_object_set_new(o, "tier", json_string("none"));
	json_object_set_new(o, "name", json_string(c.name));
	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "roles", json_string(roles));
	cry_key_to_b64(key, c.identity);
	json_object_set_new(o, "identity", json_string(key));
	cry_key_to_b64(key, c.wgkey);
	json_object_set_new(o, "wgkey", json_string(key));
	proto_addr_format(addr, 4, c.addr4);
	json_object_set_new(o, "addr4", json_string(addr));
	proto_addr_format(addr, 6, c.addr6);
	json_object_set_new(o, "addr6", json_string(addr));
	json_object_set(o, "subnets", subnets);
	json_object_set_new(o, "not_after", json_integer((json_int_t)c.not_after));
	json_object_set_new(o, "joined_at", json_integer((json_int_t)ts));
	json_object_set(o, "endpoints", json_object_get(b, "endpoints"));
	json_object_set_new(o, "observed_ip", json_string("192.0.2.9"));
	json_object_set_new(o, "cert", json_string(cert64));
	json_object_set_new(o, "record",
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "method", "POST", "uri", uri,
				      "key", h.key, "timestamp", h.timestamp, "nonce", h.nonce,
				      "signature", h.signature, "body", body));
out:
	json_decref(b);
	json_decref(subnets);
	free(cert64);
	return o;
}

/* The document of p as it is after joining with role and endpoints eps
 * (the inside of a JSON array), signed at ts. */
SC_UNUSED static json_t *pd_join(const struct rt_peer *p, const char *role, const char *eps,
				 uint64_t ts)
{
	char *body = rt_join_body(p, role, eps);
	json_t *o = body ? pd_make(p, p, NULL, "/v1/join", body, role, ts) : NULL;

	free(body);
	return o;
}

/* JSON text of o (heap), and o released. */
SC_UNUSED static char *pd_text(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

#endif
