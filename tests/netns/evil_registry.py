#!/usr/bin/env python3
# tests/netns/evil_registry.py: a compromised registry for
# tests/netns/star_compromised.sh. It stands between the nodes and the real
# scope-registry, forwards every request unchanged (the nodes' signatures
# cover method, path and body, not the host) and lies in the answers the
# nodes must verify themselves:
#
#   - every GET /v1/peers answer gets an extra peer, "mallory", whose
#     document is genuine except that its certificate is signed by another
#     admin key (--forged FILE: the document as another registry served it);
#   - on command (--ctl FILE), one GET /v1/events answer per node is
#     replaced by a fabricated event carrying a tampered document, and the
#     node's next poll gets 410 cursor_expired, so it fetches a clean full
#     list again (a real registry says the same when it lost history);
#   - or (where "list") the node's next full list carries the tampered
#     document in place of the genuine one.
#
# The control file is JSON: {"gen": N, "attack": NAME, "target": PEER,
# "where": "events"|"list", "key": B64, "endpoint": "IP:port"} (TARGET: the
# peer to lie about). A bigger gen
# is a new attack; every node is served it once. Attacks:
#   forged_join    a join event for mallory (the forged certificate)
#   wgkey_summary  TARGET's document, the summary's wgkey swapped for KEY
#   wgkey_cert     TARGET's WireGuard key swapped for KEY everywhere: inside
#                  the certificate bytes, in the join body's copy of it and in
#                  the summary (only the admin's signature can tell)
#   endpoint       TARGET's signed join body and summary name ENDPOINT
#   replay         TARGET's last genuine document, unchanged, as a join
#                  (after TARGET left or was revoked)
#   forged_kill    a kill event carrying KILL (a kill switch signed by
#                  another admin key), for every node
#   none           serve nothing, only make every node fetch a clean list
#
# KEX mailbox attacks (tests/netns/pq_compromised.sh) are a standing mode,
# "kex" in the control file, applied to every GET /v1/kex answer:
#   corrupt   one bit of each KEX record flipped (inside the signed request)
#   swap      each genuine message replaced by an earlier one meant for
#             another peer
#   replay    every second genuine message to each node replaced by an
#             earlier message (any sender, any recipient, any version)
#   none      unchanged
#
# What was served to whom goes to stdout, one line each ("served gen=N
# attack=A to=NAME", "listed ..."), for the test to wait on.
#
# Standard library only.
import argparse
import base64
import http.client
import http.server
import json
import random
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()
STATE = {}  # Scope-Key -> {"served": gen, "expire": bool, "tamper": ctl or None}
NAMES = {}  # Scope-Key (identity, base64) -> peer name, learned from documents
GENUINE = {}  # peer name -> its latest genuine document, from answers
ARGS = None
KEX_SEEN = []  # every KEX message object relayed, in order
KEX_IDS = set()


def log(msg):
    with LOCK:
        print(msg, flush=True)


def read_ctl():
    try:
        with open(ARGS.ctl, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"gen": 0}


def forged_doc():
    with open(ARGS.forged, encoding="utf-8") as f:
        return json.load(f)


def b64swap(b64, old, new):
    raw = base64.b64decode(b64)
    if old not in raw:
        raise ValueError("key not found in the certificate")
    return base64.b64encode(raw.replace(old, new)).decode()


def tamper(doc, ctl):
    """A copy of doc with the attack of ctl applied."""
    d = json.loads(json.dumps(doc))
    attack = ctl["attack"]
    if attack == "replay":
        pass
    elif attack == "wgkey_summary":
        d["wgkey"] = ctl["key"]
    elif attack == "wgkey_cert":
        old = base64.b64decode(d["wgkey"])
        new = base64.b64decode(ctl["key"])
        d["cert"] = b64swap(d["cert"], old, new)
        body = json.loads(d["record"]["body"])
        if "cert" in body:
            body["cert"] = b64swap(body["cert"], old, new)
        d["record"]["body"] = json.dumps(body, separators=(",", ":"))
        d["wgkey"] = ctl["key"]
    elif attack == "endpoint":
        body = json.loads(d["record"]["body"])
        body["endpoints"] = [ctl["endpoint"]]
        d["record"]["body"] = json.dumps(body, separators=(",", ":"))
        d["endpoints"] = [ctl["endpoint"]]
    else:
        raise ValueError("unknown attack " + attack)
    return d


def kex_to(m):
    try:
        return json.loads(m["record"]["body"]).get("to")
    except (KeyError, TypeError, ValueError):
        return None


def kex_corrupt(m):
    m = json.loads(json.dumps(m))
    body = json.loads(m["record"]["body"])
    raw = bytearray(base64.b64decode(body["msg"]))
    raw[len(raw) // 2] ^= 0x01
    body["msg"] = base64.b64encode(bytes(raw)).decode()
    m["record"]["body"] = json.dumps(body, separators=(",", ":"))
    return m


# Messages keep the ids the registry gave them: the node pages with `after`
# over signed request targets the proxy cannot change, and a genuine client
# refuses an answer whose ids do not grow. So a substitute travels in the
# slot of a genuine message, and reaches the node's key-exchange driver,
# which must refuse it on its own merits.
# Counted per recipient: one count for all would let two nodes polling in
# turn get every genuine message for one and none for the other.
REPLAY_TURN = {}


def kex_slot(m, sub):
    out = dict(sub)
    out["id"] = m["id"]
    return out


def kex_rewrite(body, key):
    mode = read_ctl().get("kex", "none")
    o = json.loads(body)
    msgs = o.get("messages", [])
    who = NAMES.get(key, key)
    with LOCK:
        older = list(KEX_SEEN)
        for m in msgs:
            if m["id"] not in KEX_IDS:
                KEX_IDS.add(m["id"])
                KEX_SEEN.append(m)
    if mode == "corrupt":
        out = [kex_corrupt(m) for m in msgs]
    elif mode == "swap":
        others = [m for m in older if kex_to(m) != who]
        out = [kex_slot(m, random.choice(others)) for m in msgs if others]
    elif mode == "replay":
        out = []
        for m in msgs:
            turn = REPLAY_TURN[who] = REPLAY_TURN.get(who, 0) + 1
            replay = older and turn % 2 == 0
            out.append(kex_slot(m, random.choice(older)) if replay else m)
    else:
        out = msgs
    o["messages"] = out
    if mode != "none" and msgs:
        log("kex mode=%s to=%s genuine=%d served=%d" % (mode, who, len(msgs), len(out)))
    return json.dumps(o).encode()


def learn(doc):
    if isinstance(doc, dict) and "name" in doc and doc.get("name") != "mallory":
        GENUINE[doc["name"]] = doc
        if "identity" in doc:
            NAMES[doc["identity"]] = doc["name"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: stdout is for the test
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower().startswith("scope-")}
        if body is not None:
            headers["Content-Type"] = self.headers.get("Content-Type", "application/json")
        # a trusted proxy says who the client is
        headers["X-Forwarded-For"] = self.client_address[0]
        conn = http.client.HTTPConnection(ARGS.upstream, timeout=120)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read(), r.getheader("Content-Type", "application/json")
        finally:
            conn.close()

    def do_POST(self):
        status, body, ctype = self.forward()
        self.reply(status, body, ctype)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        key = self.headers.get("Scope-Key", "")
        if url.path == "/v1/events" and key and self.events_attack(url, key):
            return
        status, body, ctype = self.forward()
        if status == 200 and url.path == "/v1/peers":
            body = self.rewrite_peers(body, key)
        elif status == 200 and url.path == "/v1/kex":
            body = self.kex_rewrite_safe(body, key)
        elif status == 200 and url.path == "/v1/events":
            for ev in json.loads(body).get("events", []):
                if ev.get("type") in ("join", "move"):
                    learn(ev.get("data"))
        self.reply(status, body, ctype)

    def kex_rewrite_safe(self, body, key):
        try:
            return kex_rewrite(body, key)
        except (KeyError, TypeError, ValueError) as e:
            log("kex rewrite failed: %s" % e)
            return body

    def rewrite_peers(self, body, key):
        o = json.loads(body)
        for d in o.get("peers", []):
            learn(d)
        with LOCK:
            st = STATE.setdefault(key, {"served": 0, "expire": False, "tamper": None})
            ctl, st["tamper"] = st["tamper"], None
        if ctl:
            o["peers"] = [tamper(d, ctl) if d.get("name") == ctl["target"] else d
                          for d in o["peers"]]
            log("listed gen=%d attack=%s to=%s" % (ctl["gen"], ctl["attack"],
                                                   NAMES.get(key, key)))
        if ARGS.forged:
            o["peers"].append(forged_doc())
        return json.dumps(o).encode()

    def events_attack(self, url, key):
        """Answer an events poll with a lie; True if answered."""
        ctl = read_ctl()
        with LOCK:
            st = STATE.setdefault(key, {"served": 0, "expire": False, "tamper": None})
            new = ctl.get("gen", 0) > st["served"]
            expire = st["expire"]
            if new:
                st["served"] = ctl["gen"]
                st["expire"] = ctl.get("where", "events") == "events" and \
                    ctl["attack"] != "none"
                if ctl.get("where") == "list":
                    st["tamper"] = ctl
            elif expire:
                st["expire"] = False
        who = NAMES.get(key, key)
        if new and ctl.get("where", "events") == "events" and ctl["attack"] != "none":
            q = urllib.parse.parse_qs(url.query)
            cursor = int(q.get("cursor", ["0"])[0])
            if ctl["attack"] == "forged_kill":
                ev = {"seq": cursor + 1, "type": "kill", "peer": "", "at": int(time.time()),
                      "data": {"serial": int(time.time()), "kill": ctl["kill"]}}
                self.reply(200, json.dumps({"cursor": cursor + 1, "events": [ev]}))
                log("served gen=%d attack=%s to=%s" % (ctl["gen"], ctl["attack"], who))
                return True
            if ctl["attack"] == "forged_join":
                doc, kind = forged_doc(), "join"
            else:
                doc = tamper(GENUINE[ctl["target"]], ctl)
                kind = "join" if ctl["attack"] == "replay" else "move"
            ev = {"seq": cursor + 1, "type": kind, "peer": doc["name"],
                  "at": int(time.time()), "data": doc}
            self.reply(200, json.dumps({"cursor": cursor + 1, "events": [ev]}))
            log("served gen=%d attack=%s to=%s" % (ctl["gen"], ctl["attack"], who))
            return True
        if new or expire:
            # lost history: the node fetches the full list again
            self.reply(410, json.dumps({"error": "cursor expired", "code": "cursor_expired"}))
            if new:
                log("expired gen=%d attack=%s to=%s" % (ctl["gen"], ctl["attack"], who))
            return True
        return False


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--listen", required=True, help="ADDR:PORT")
    p.add_argument("--upstream", required=True, help="ADDR:PORT of the real registry")
    p.add_argument("--ctl", required=True, help="control file (JSON)")
    p.add_argument("--forged", help="mallory's document, inserted into every peer list")
    ARGS = p.parse_args()
    host, port = ARGS.listen.rsplit(":", 1)
    srv = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    log("ready")
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
