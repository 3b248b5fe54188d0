// SPDX-License-Identifier: GPL-2.0-only
/*
 * The persistent cache: what is saved loads back verified; a tampered entry
 * is refused on its own; files are private and replaced whole; the kill
 * serial never goes down.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "agent/cache.h"
#include "agent/peerdoc.h"

#define T0  1700000000ull
#define EPS "\"198.51.100.1:51820\""

static struct rt_net net;
static struct rt_peer alice, bob;
static char base[64];

static int setup(void)
{
	static int done;

	if (done)
		return 0;
	done = 1;
	snprintf(base, sizeof(base), "/tmp/scope-cache-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	return rt_net_make(&net, NULL, T0 - 1000) ||
	       rt_peer_make(&alice, &net, "alice", PROTO_ROLE_EDGE, 2, T0 - 100, T0 + 1000, NULL,
			    NULL) ||
	       rt_peer_make(&bob, &net, "bob", PROTO_ROLE_EDGE, 3, T0 - 100, T0 + 100000, NULL,
			    NULL);
}

static int peer_of(const struct rt_peer *rp, uint64_t version, struct agent_peer *out)
{
	char *s = pd_text(pd_join(rp, "edge", EPS, T0));
	int r = s ? agent_peer_from_doc(s, strlen(s), &net.def, NULL, T0, out, NULL, 0) : -1;

	free(s);
	out->version = version;
	return r;
}

static void dir_path(char *out, size_t cap, const char *sub, const char *file)
{
	snprintf(out, cap, "%s/%s%s%s", base, sub, file ? "/" : "", file ? file : "");
}

struct refusals {
	int n;
	char last[64];
};

static void on_refuse(void *ctx, const char *peer, int err, const char *why)
{
	struct refusals *r = ctx;

	r->n++;
	snprintf(r->last, sizeof(r->last), "%s", peer);
}

static void test_round_trip(void)
{
	struct agent_peer ps[2];
	struct agent_cache_peers got;
	struct agent_cache *c = NULL;
	struct stat st;
	char d[128], f[160];

	CHECK_EQ(setup(), 0);
	dir_path(d, sizeof(d), "rt", NULL);
	CHECK_EQ(agent_cache_open(d, &net.def, &c), 0);
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), -ENOENT);
	CHECK_EQ(peer_of(&bob, 7, &ps[0]), 0);
	CHECK_EQ(peer_of(&alice, 5, &ps[1]), 0);
	CHECK_EQ(agent_cache_save(c, ps, 2, 9, 11), 0);
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), 0);
	CHECK_EQ(got.n, 2);
	CHECK_EQ(got.version, 9);
	CHECK_EQ(got.cursor, 11);
	CHECK_EQ(got.refused, 0);
	CHECK(strcmp(got.peers[0].name, "alice") == 0 && got.peers[0].version == 5);
	CHECK(strcmp(got.peers[1].name, "bob") == 0 && got.peers[1].version == 7);
	CHECK_MEM(got.peers[1].cert.wgkey, bob.wg, 32);
	CHECK_EQ(got.peers[1].n_endpoints, 1);
	agent_cache_peers_clear(&got);
	/* private: the directory 0700, the file 0600 */
	CHECK_EQ(stat(d, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0700);
	dir_path(f, sizeof(f), "rt", "peers.json");
	CHECK_EQ(stat(f, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	/* re-verified at load: alice's certificate has expired meanwhile */
	CHECK_EQ(agent_cache_load(c, NULL, T0 + 5000, &got), 0);
	CHECK_EQ(got.n, 1);
	CHECK_EQ(got.refused, 1);
	CHECK(strcmp(got.peers[0].name, "bob") == 0);
	agent_cache_peers_clear(&got);
	/* a cache of another network is not read */
	{
		struct rt_net other;
		struct agent_cache *c2 = NULL;

		CHECK_EQ(rt_net_make(&other, "othernet", T0), 0);
		CHECK_EQ(agent_cache_open(d, &other.def, &c2), 0);
		CHECK_EQ(agent_cache_load(c2, NULL, T0, &got), -EXDEV);
		agent_cache_free(c2);
	}
	agent_peer_clear(&ps[0]);
	agent_peer_clear(&ps[1]);
	agent_cache_free(c);
	agent_cache_free(NULL);
}

static void test_tampered(void)
{
	struct agent_peer ps[2];
	struct agent_cache_peers got;
	struct agent_cache *c = NULL;
	struct refusals ref = { 0 };
	char d[128], f[160], *text, *p;
	size_t len = 0;
	FILE *fp;

	CHECK_EQ(setup(), 0);
	dir_path(d, sizeof(d), "tamper", NULL);
	CHECK_EQ(agent_cache_open(d, &net.def, &c), 0);
	agent_cache_set_refuse_cb(c, on_refuse, &ref);
	CHECK_EQ(peer_of(&alice, 1, &ps[0]), 0);
	CHECK_EQ(peer_of(&bob, 2, &ps[1]), 0);
	CHECK_EQ(agent_cache_save(c, ps, 2, 2, 2), 0);
	/* edit bob's endpoint in the signed body of the cached record */
	dir_path(f, sizeof(f), "tamper", "peers.json");
	text = t_slurp(f, &len);
	CHECK(text != NULL);
	p = text ? strstr(strstr(text, "\"name\":\"bob\""), "198.51.100.1:51820\\\"") : NULL;
	CHECK(p != NULL);
	if (p)
		p[11] = '7';
	/* and the summary with it, so only the signature can tell */
	p = text ? strstr(strstr(text, "\"name\":\"bob\""), "\"endpoints\":[\"198.51.100.1") : NULL;
	CHECK(p != NULL);
	if (p)
		p[strlen("\"endpoints\":[\"198.51.100.")] = '7';
	fp = fopen(f, "wb");
	if (fp && text) {
		fwrite(text, 1, len, fp);
		fclose(fp);
	}
	free(text);
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), 0);
	CHECK_EQ(got.n, 1);
	CHECK_EQ(got.refused, 1);
	CHECK(got.n == 1 && strcmp(got.peers[0].name, "alice") == 0);
	CHECK_EQ(ref.n, 1);
	CHECK(strcmp(ref.last, "bob") == 0);
	agent_cache_peers_clear(&got);
	/* a file that is not a cache at all */
	fp = fopen(f, "wb");
	if (fp) {
		fputs("{\"format\":1,\"network\":\"testnet\",\"peers\":3}", fp);
		fclose(fp);
	}
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), -EINVAL);
	fp = fopen(f, "wb");
	if (fp) {
		fputs("garbage", fp);
		fclose(fp);
	}
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), -EINVAL);
	/* a symlink in place of the file is not followed */
	CHECK_EQ(unlink(f), 0);
	CHECK_EQ(symlink("/etc/passwd", f), 0);
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), -EINVAL);
	CHECK_EQ(agent_cache_save(c, ps, 2, 2, 2), 0); /* replaced by a file */
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), 0);
	CHECK_EQ(got.n, 2);
	agent_cache_peers_clear(&got);
	agent_peer_clear(&ps[0]);
	agent_peer_clear(&ps[1]);
	agent_cache_free(c);
}

/* The old file or the new one, never a mix; no temporary files left. */
static void test_atomic(void)
{
	struct agent_peer ps[2];
	struct agent_cache_peers got;
	struct agent_cache *c = NULL;
	struct dirent *de;
	char d[128];
	DIR *dh;
	int files = 0;

	CHECK_EQ(setup(), 0);
	dir_path(d, sizeof(d), "atomic", NULL);
	CHECK_EQ(mkdir(d, 0755), 0);
	CHECK_EQ(agent_cache_open(d, &net.def, &c), 0); /* and tightened */
	CHECK_EQ(peer_of(&alice, 1, &ps[0]), 0);
	CHECK_EQ(peer_of(&bob, 2, &ps[1]), 0);
	CHECK_EQ(agent_cache_save(c, ps, 1, 1, 1), 0);
	/* a save that fails half way (a peer without a document) keeps the old file */
	free(ps[1].doc);
	ps[1].doc = NULL;
	CHECK_EQ(agent_cache_save(c, ps, 2, 2, 2), -EINVAL);
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), 0);
	CHECK_EQ(got.n, 1);
	CHECK_EQ(got.version, 1);
	agent_cache_peers_clear(&got);
	CHECK_EQ(agent_cache_save(c, ps, 1, 3, 3), 0);
	CHECK_EQ(agent_cache_load(c, NULL, T0, &got), 0);
	CHECK_EQ(got.version, 3);
	agent_cache_peers_clear(&got);
	dh = opendir(d);
	while (dh && (de = readdir(dh)))
		files += de->d_name[0] != '.' ||
			 (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	if (dh)
		closedir(dh);
	CHECK_EQ(files, 1);
	{
		struct stat st;

		CHECK_EQ(stat(d, &st), 0);
		CHECK_EQ(st.st_mode & 0777, 0700);
	}
	agent_peer_clear(&ps[0]);
	agent_peer_clear(&ps[1]);
	agent_cache_free(c);
}

static void test_kill_serial(void)
{
	struct agent_cache *c = NULL;
	char d[128], f[160];
	uint64_t s = 0;
	FILE *fp;

	CHECK_EQ(setup(), 0);
	dir_path(d, sizeof(d), "kill", NULL);
	CHECK_EQ(agent_cache_open(d, &net.def, &c), 0);
	CHECK_EQ(agent_cache_kill_serial(c, &s), -ENOENT);
	CHECK_EQ(agent_cache_save_kill_serial(c, 7), 0);
	CHECK_EQ(agent_cache_kill_serial(c, &s), 0);
	CHECK_EQ(s, 7);
	CHECK_EQ(agent_cache_save_kill_serial(c, 7), 0);
	CHECK_EQ(agent_cache_save_kill_serial(c, 3), -EALREADY);
	CHECK_EQ(agent_cache_kill_serial(c, &s), 0);
	CHECK_EQ(s, 7);
	CHECK_EQ(agent_cache_save_kill_serial(c, 9), 0);
	agent_cache_free(c);
	/* survives reopening */
	CHECK_EQ(agent_cache_open(d, &net.def, &c), 0);
	CHECK_EQ(agent_cache_kill_serial(c, &s), 0);
	CHECK_EQ(s, 9);
	dir_path(f, sizeof(f), "kill", "kill-serial");
	fp = fopen(f, "wb");
	if (fp) {
		fputs("9x\n", fp);
		fclose(fp);
	}
	CHECK_EQ(agent_cache_kill_serial(c, &s), -EINVAL);
	CHECK_EQ(agent_cache_save_kill_serial(c, 2), 0); /* a broken file is replaced */
	CHECK_EQ(agent_cache_kill_serial(c, &s), 0);
	CHECK_EQ(s, 2);
	agent_cache_free(c);
}

static void test_cleanup(void)
{
	char cmd[128];

	/* the suite's own temporary directory */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	CHECK(base[0] == '/' && strncmp(base, "/tmp/scope-cache-", 17) == 0);
	CHECK_EQ(system(cmd), 0);
}

static const struct t_case cases[] = {
	T(test_round_trip), T(test_tampered), T(test_atomic), T(test_kill_serial), T(test_cleanup),
};

int main(void)
{
	return t_main("agent-cache", cases, SC_ARRAY_SIZE(cases));
}
