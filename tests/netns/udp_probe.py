#!/usr/bin/env python3
"""udp_probe.py: a tiny UDP tool for the Scope network test bed.

Every subcommand stops by itself: nothing waits longer than --timeout.
Output is one line per event, flushed at once, so a test can poll a file:

  listening ADDR:PORT          the socket is bound (reflect, client)
  recv FROM PAYLOAD            a datagram arrived (FROM is the source it saw)
  mapped TO SEEN               TO answered a probe and saw us as SEEN (client)
  nomap TO                     TO never answered (client)
  probed ok|fail               end of the probing phase (client)
  marker FROM                  the --until payload arrived (client)
  timeout                      the deadline passed

Subcommands
  reflect --bind A:P [--count N] [--timeout S]
      Answer each datagram with "seen IP:PORT", the source address it saw,
      like a STUN server.  Stop after N answers (0: until the timeout).
      Exit 0 if it answered at least one datagram (N, if N > 0), else 1.
  client --bind A:P --to A:P [--to A:P ...] [--timeout S] [--tries N]
         [--until PAYLOAD] [--linger S]
      From ONE socket, ask each --to reflector which source it sees, then keep
      listening and report every datagram until one carries PAYLOAD (then
      listen --linger seconds more) or the timeout.  Exit 0 if every
      reflector answered and, with --until, the marker arrived; else 1.
  send --bind A:P --to A:P [--data STR] [--count N]
      Send datagram(s) and exit.

Addresses are IPv4 "1.2.3.4:5" or IPv6 "[2001:db8::1]:5".  This tool only
ever talks to the addresses it is given.
"""

import argparse
import select
import socket
import sys
import time


def parse_addr(text):
    """'1.2.3.4:5' or '[v6]:5' -> (family, (host, port))."""
    try:
        if text.startswith("["):
            host, _, port = text[1:].partition("]:")
            return socket.AF_INET6, (host, int(port))
        host, _, port = text.rpartition(":")
        if not host or ":" in host:
            raise ValueError
        return socket.AF_INET, (host, int(port))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad address '{text}' (want IP:PORT or [IPv6]:PORT)")


def fmt(addr):
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def same_addr(a, b):
    """Compare (host, port) pairs by their binary address, not their spelling."""
    family = socket.AF_INET6 if ":" in a[0] else socket.AF_INET
    try:
        return a[1] == b[1] and socket.inet_pton(family, a[0]) == socket.inet_pton(family, b[0])
    except OSError:
        return False


def say(*words):
    print(*words, flush=True)


def open_socket(bind):
    family, addr = bind
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind(addr)
    return sock


def recv_until(sock, deadline):
    """One datagram, or None once the deadline has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    ready, _, _ = select.select([sock], [], [], remaining)
    if not ready:
        return None
    data, src = sock.recvfrom(65535)
    return data.decode("utf-8", "replace"), src


def cmd_reflect(args):
    sock = open_socket(args.bind)
    say("listening", fmt(sock.getsockname()))
    deadline = time.monotonic() + args.timeout
    answered = 0
    while args.count == 0 or answered < args.count:
        got = recv_until(sock, deadline)
        if got is None:
            say("timeout")
            break
        payload, src = got
        say("recv", fmt(src), payload)
        sock.sendto(f"seen {fmt(src)}".encode(), src[:2])
        answered += 1
    if args.count:
        return 0 if answered == args.count else 1
    return 0 if answered else 1


def probe_one(sock, dst, index, tries, deadline, args, state):
    """Send probes to one reflector until it answers; other datagrams are reported."""
    for attempt in range(tries):
        sock.sendto(f"probe {index} {attempt}".encode(), dst[1])
        wait_end = min(deadline, time.monotonic() + 1.0)
        while True:
            got = recv_until(sock, wait_end)
            if got is None:
                break
            payload, src = got
            if same_addr(src[:2], dst[1]) and payload.startswith("seen "):
                return payload[5:]
            note_datagram(payload, src, args, state)
        if time.monotonic() >= deadline:
            break
    return None


def note_datagram(payload, src, args, state):
    say("recv", fmt(src), payload)
    if args.until is not None and payload == args.until and state["marker"] is None:
        say("marker", fmt(src))
        state["marker"] = time.monotonic()


def cmd_client(args):
    sock = open_socket(args.bind)
    say("listening", fmt(sock.getsockname()))
    deadline = time.monotonic() + args.timeout
    state = {"marker": None}
    ok = True
    for index, dst in enumerate(args.to):
        seen = probe_one(sock, dst, index, args.tries, deadline, args, state)
        if seen is None:
            say("nomap", fmt(dst[1]))
            ok = False
        else:
            say("mapped", fmt(dst[1]), seen)
    say("probed", "ok" if ok else "fail")
    while True:
        end = deadline
        if state["marker"] is not None:
            end = min(deadline, state["marker"] + args.linger)
        got = recv_until(sock, end)
        if got is None:
            break
        note_datagram(*got, args, state)
    if args.until is not None and state["marker"] is None:
        say("timeout")
        ok = False
    return 0 if ok else 1


def cmd_send(args):
    sock = open_socket(args.bind)
    if sock.family != args.to[0]:
        sys.exit("udp_probe: --bind and --to are of different address families")
    for _ in range(args.count):
        sock.sendto(args.data.encode(), args.to[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description="bounded UDP probes for the netns test bed")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("reflect", help="answer datagrams with the source seen")
    p.add_argument("--bind", type=parse_addr, required=True)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(func=cmd_reflect)

    p = sub.add_parser("client", help="learn mappings from reflectors, then listen")
    p.add_argument("--bind", type=parse_addr, required=True)
    p.add_argument("--to", type=parse_addr, action="append", default=[])
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--tries", type=int, default=3)
    p.add_argument("--until", default=None)
    p.add_argument("--linger", type=float, default=0.3)
    p.set_defaults(func=cmd_client)

    p = sub.add_parser("send", help="send datagrams and exit")
    p.add_argument("--bind", type=parse_addr, required=True)
    p.add_argument("--to", type=parse_addr, required=True)
    p.add_argument("--data", default="hello")
    p.add_argument("--count", type=int, default=1)
    p.set_defaults(func=cmd_send)

    args = ap.parse_args()
    if getattr(args, "timeout", 1) <= 0:
        ap.error("--timeout must be positive")
    try:
        return args.func(args)
    except OSError as e:
        print(f"udp_probe: {args.cmd}: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
