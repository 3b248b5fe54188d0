#!/usr/bin/env python3
"""Bulk TCP transfer with an end-to-end checksum, for the netns tests.

  tcpxfer.py recv ADDR PORT OUTFILE   accept one connection, read to EOF, then
                                      write "<bytes> <sha256>" to OUTFILE
  tcpxfer.py send ADDR PORT NBYTES    connect (retrying for 10 s), send NBYTES
                                      random bytes, print "<bytes> <sha256>"

The sender's digest covers exactly what it wrote; the receiver's what it read.
Equal lines mean every byte crossed the tunnel intact and in order.
"""
import hashlib
import os
import socket
import sys
import time

CHUNK = 1 << 16


def recv(addr, port, outfile):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    conn, _ = srv.accept()
    h = hashlib.sha256()
    total = 0
    while True:
        b = conn.recv(CHUNK)
        if not b:
            break
        h.update(b)
        total += len(b)
    conn.close()
    with open(outfile + ".tmp", "w") as f:
        f.write(f"{total} {h.hexdigest()}\n")
    os.rename(outfile + ".tmp", outfile)


def send(addr, port, nbytes):
    deadline = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection((addr, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    s.settimeout(60)
    h = hashlib.sha256()
    left = nbytes
    while left:
        b = os.urandom(min(CHUNK, left))
        s.sendall(b)
        h.update(b)
        left -= len(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # wait for the receiver to close: all bytes were read
    s.close()
    print(f"{nbytes} {h.hexdigest()}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
