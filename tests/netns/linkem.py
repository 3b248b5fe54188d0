#!/usr/bin/env python3
"""linkem.py: a userspace link emulator, the test bed's stand-in for tc netem.

Some kernels (this project's test machines among them) are built without
sch_netem.  tb_netem then splices this program into a link: it forwards
Ethernet frames between two interfaces of the switch namespace through
AF_PACKET sockets and applies netem-like impairments per direction.

  linkem.py run --a IF_A --b IF_B --spec FILE [--paused]
      IF_A faces the host, IF_B the bridge.  FILE holds two lines, the
      impairment from A to B (the host's egress) and from B to A; an empty
      line passes frames through.  SIGHUP re-reads FILE and prints
      "spec GEN" (GEN = the first word of a third line, if any); SIGUSR1
      ends --paused (frames read while paused are dropped).  Prints "ready"
      once both sockets are bound.  Stops on SIGTERM/SIGINT.
  linkem.py check SPEC...
      Exit 0 if SPEC is supported, else print why and exit 1.

SPEC is the netem subset: delay TIME [JITTER], loss [random] PCT,
duplicate PCT, rate RATE, limit PACKETS.  TIME: 10ms, 2s, 500us.
PCT: 1%, 0.5%.  RATE: 10mbit, 1gbit, 500kbit, 100kbps (bytes/s).
Jitter is uniform, so it may reorder, like netem without a distribution.

Frames carry a virtio-net header (PACKET_VNET_HDR), so GSO and checksum
offload state passes through untouched: a 64 KB TSO frame is forwarded as
is, and the kernel segments it where it needs to.
"""

import heapq
import os
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
VNET_HDR_LEN = 10
MAX_FRAME = 65536 + 256
BATCH = 64


class SpecError(ValueError):
    pass


def parse_time(text):
    units = (("usec", 1e-6), ("msec", 1e-3), ("sec", 1.0), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0))
    for unit, scale in units:
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * scale
            except ValueError:
                break
    raise SpecError(f"bad time '{text}' (want e.g. 100ms, 2s, 500us)")


def parse_pct(text):
    try:
        value = float(text[:-1]) if text.endswith("%") else float(text) * 100.0
    except ValueError:
        raise SpecError(f"bad percentage '{text}' (want e.g. 1%)")
    if not 0.0 <= value <= 100.0:
        raise SpecError(f"percentage '{text}' out of range")
    return value / 100.0


def parse_rate(text):
    units = (("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1.0),
             ("gbps", 8e9), ("mbps", 8e6), ("kbps", 8e3), ("bps", 8.0))
    for unit, scale in units:
        if text.lower().endswith(unit):
            try:
                value = float(text[: -len(unit)]) * scale
            except ValueError:
                break
            if value <= 0:
                break
            return value
    raise SpecError(f"bad rate '{text}' (want e.g. 10mbit)")


def is_number_like(text):
    return bool(text) and (text[0].isdigit() or text[0] == ".")


def parse_spec(words):
    """netem words -> dict; raises SpecError naming what is unsupported."""
    spec = {"delay": 0.0, "jitter": 0.0, "loss": 0.0, "dup": 0.0, "rate": 0.0, "limit": 1000}
    i = 0
    while i < len(words):
        word = words[i]

        def arg(n=1):
            if i + n >= len(words):
                raise SpecError(f"'{word}' needs a value")
            return words[i + n]

        if word == "delay":
            spec["delay"] = parse_time(arg())
            i += 2
            if i < len(words) and is_number_like(words[i]):
                spec["jitter"] = parse_time(words[i])
                i += 1
                if i < len(words) and is_number_like(words[i]):
                    raise SpecError("delay correlation is not supported by the userspace emulator")
        elif word == "loss":
            if arg() == "random":
                i += 1
            spec["loss"] = parse_pct(arg())
            i += 2
            if i < len(words) and is_number_like(words[i]):
                raise SpecError("loss correlation is not supported by the userspace emulator")
        elif word == "duplicate":
            spec["dup"] = parse_pct(arg())
            i += 2
        elif word == "rate":
            spec["rate"] = parse_rate(arg())
            i += 2
        elif word == "limit":
            try:
                spec["limit"] = int(arg())
            except ValueError:
                raise SpecError(f"bad limit '{arg()}'")
            i += 2
        else:
            raise SpecError(f"'{word}' is not supported by the userspace emulator "
                            "(delay, loss, duplicate, rate, limit are)")
    return spec


class Direction:
    """One way of the link: its impairment and its transmit clock for rate."""

    def __init__(self, name):
        self.name = name
        self.spec = None  # None: pass-through
        self.busy_until = 0.0
        self.queued = 0

    def set(self, line):
        words = line.split()
        self.spec = parse_spec(words) if words else None

    def schedule(self, now, length):
        """Departure times for one frame ([] = dropped)."""
        spec = self.spec
        if spec is None:
            return [now]
        if spec["loss"] and random.random() < spec["loss"]:
            return []
        if self.queued >= spec["limit"]:
            return []
        start = now
        if spec["rate"]:
            start = max(now, self.busy_until) + (length - VNET_HDR_LEN) * 8.0 / spec["rate"]
            self.busy_until = start
        times = [start + self.delay(spec)]
        if spec["dup"] and random.random() < spec["dup"]:
            times.append(start + self.delay(spec))
        return times

    @staticmethod
    def delay(spec):
        if not spec["jitter"]:
            return spec["delay"]
        return max(0.0, spec["delay"] + random.uniform(-spec["jitter"], spec["jitter"]))


def open_port(ifname):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 8 << 20)
    except OSError:
        pass
    sock.bind((ifname, ETH_P_ALL))
    sock.setblocking(False)
    return sock


def load_spec(path, a2b, b2a):
    with open(path) as f:
        lines = f.read().split("\n")
    lines += [""] * 3
    a2b.set(lines[0])
    b2a.set(lines[1])
    return lines[2].split()[0] if lines[2].split() else "-"


def cmd_run(args):
    state = {"hup": False, "paused": args.paused, "stop": False}

    def on_hup(*_):
        state["hup"] = True

    def on_usr1(*_):
        state["paused"] = False

    def on_stop(*_):
        state["stop"] = True

    # The handlers only set flags; the wakeup pipe makes poll() return so the
    # loop sees them at once (Python restarts an interrupted poll otherwise).
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)

    a2b, b2a = Direction("a2b"), Direction("b2a")
    load_spec(args.spec, a2b, b2a)
    sock_a, sock_b = open_port(args.a), open_port(args.b)
    route = {sock_a.fileno(): (sock_a, sock_b, a2b), sock_b.fileno(): (sock_b, sock_a, b2a)}
    print("ready", flush=True)

    heap = []  # (departure, seq, out socket, direction, frame)
    seq = 0
    poller = select.poll()
    poller.register(sock_a, select.POLLIN)
    poller.register(sock_b, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    while not state["stop"]:
        if state["hup"]:
            state["hup"] = False
            try:
                gen = load_spec(args.spec, a2b, b2a)
                print("spec", gen, flush=True)
            except (OSError, SpecError) as e:
                print("spec-error", e, flush=True)
        now = time.monotonic()
        while heap and heap[0][0] <= now:
            _, _, out, direction, frame = heapq.heappop(heap)
            direction.queued -= 1
            try:
                out.send(frame)
            except OSError:
                pass  # a full queue or a vanished peer: the frame is lost, as on a wire
        timeout = -1 if not heap else max(0, (heap[0][0] - now) * 1000.0)
        try:
            events = poller.poll(timeout)
        except InterruptedError:
            continue
        for fd, _ in events:
            if fd == wake_r:
                try:
                    os.read(wake_r, 512)
                except BlockingIOError:
                    pass
                continue
            src, dst, direction = route[fd]
            for _ in range(BATCH):
                try:
                    frame = src.recv(MAX_FRAME)
                except (BlockingIOError, InterruptedError):
                    break
                if state["paused"] or len(frame) <= VNET_HDR_LEN:
                    continue
                now = time.monotonic()
                for when in direction.schedule(now, len(frame)):
                    if direction.spec is None:
                        try:
                            dst.send(frame)
                        except OSError:
                            pass
                        continue
                    seq += 1
                    direction.queued += 1
                    heapq.heappush(heap, (when, seq, dst, direction, frame))
    return 0


def cmd_check(args):
    try:
        parse_spec(" ".join(args.spec).split())
    except SpecError as e:
        print(e)
        return 1
    return 0


def main():
    import argparse

    ap = argparse.ArgumentParser(description="userspace link emulator (netem stand-in)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--a", required=True, help="interface facing the host")
    p.add_argument("--b", required=True, help="interface facing the bridge")
    p.add_argument("--spec", required=True, help="file: a2b line, b2a line, generation")
    p.add_argument("--paused", action="store_true")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("check")
    p.add_argument("spec", nargs="*")
    p.set_defaults(func=cmd_check)
    args = ap.parse_args()
    try:
        return args.func(args)
    except (OSError, SpecError) as e:
        print(f"linkem: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
