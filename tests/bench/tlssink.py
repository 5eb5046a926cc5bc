#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tlssink.py ADDR CERT KEY PORT: a TLS server that reads and drops what it
# is sent, one thread per connection (the TLS benchmarks' peer: bench.sh B9,
# tlscost.sh).
import socket
import ssl
import sys
import threading

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
ls = socket.create_server((sys.argv[1], int(sys.argv[4])))


def sink(c):
    try:
        c = ctx.wrap_socket(c, server_side=True)
        while c.recv(65536):
            pass
    except OSError:
        pass


while True:
    c, _ = ls.accept()
    threading.Thread(target=sink, args=(c,), daemon=True).start()
