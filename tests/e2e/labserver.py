#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The "real company" of the end-to-end lab.

Runs inside the lab's server namespace and listens on every port a mail client
of the incident would use, plus HTTP (the autodiscover file) and a non-mail
port. It speaks just enough SMTP for swaks to finish a transaction, enough IMAP
and POP3 for curl to log in and list, and greets on the other ports.

Everything a client sends that carries a credential (SMTP AUTH, IMAP LOGIN /
AUTHENTICATE, POP3 USER / PASS, an HTTP Authorization header) is appended to --record as one JSON line, so a
test can assert "no credential reached the real server" (blocked) or "the
credential arrived" (audit). Accepted connections are recorded too.

With --tls-dir, the implicit-TLS ports speak their protocol inside TLS (993
IMAP, 465 SMTP, 995 POP3, 443 HTTP) with a throw-away self-signed certificate made there
by `openssl req`, and record what arrives inside it the same way; SMTP on the
other ports offers STARTTLS.

Standard library only (and the openssl command for --tls-dir); one thread per
connection; every socket has a timeout so nothing hangs the lab.
"""

import argparse
import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading

IO_TIMEOUT = 10.0  # seconds a client may stay silent before we hang up
MAX_LINES = 200  # a session longer than this is not one of our clients

AUTODISCOVER_XML = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>IMAP</Type>
        <Server>mail.realcorp.net</Server>
        <Port>143</Port>
        <LoginName>user@example.com</LoginName>
        <SSL>off</SSL>
      </Protocol>
      <Protocol>
        <Type>SMTP</Type>
        <Server>smtp.realcorp.net</Server>
        <Port>587</Port>
        <LoginName>user@example.com</LoginName>
        <SSL>off</SSL>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
"""

# port -> protocol spoken there
PROTOCOLS = {
    25: "smtp", 587: "smtp", 2525: "smtp",
    143: "imap",
    110: "pop3",
    80: "http",
    465: "banner", 993: "banner", 995: "banner", 4190: "banner",
    443: "banner",
    8080: "banner",
}

# port -> protocol spoken inside TLS there, with --tls-dir
TLS_PROTOCOLS = {993: "imap", 465: "smtp", 995: "pop3", 443: "http"}

_tls_context = None

_record_lock = threading.Lock()
_record_path = None


def record(kind, conn_info, **fields):
    entry = {"kind": kind}
    entry.update(conn_info)
    entry.update(fields)
    with _record_lock:
        with open(_record_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


class Session:
    def __init__(self, sock, info):
        self.sock = sock
        self.info = info
        self.buf = b""

    def send(self, text):
        self.sock.sendall(text.encode())

    def readline(self):
        """One line without CRLF, or None on EOF/timeout."""
        while b"\n" not in self.buf:
            if len(self.buf) > 65536:
                return None
            try:
                chunk = self.sock.recv(4096)
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def credential(self, line, **extra):
        record("credential", self.info, line=line, **extra)


def b64(text):
    try:
        return base64.b64decode(text, validate=False).decode("utf-8", "replace")
    except (ValueError, TypeError):
        return ""


def serve_smtp(s):
    s.send("220 labserver ESMTP ready\r\n")
    for _ in range(MAX_LINES):
        line = s.readline()
        if line is None:
            return
        verb = line.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            starttls = "250-STARTTLS\r\n" if _tls_context and not s.info.get("tls") else ""
            s.send("250-labserver\r\n%s250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n" % starttls)
        elif verb == "STARTTLS" and _tls_context and not s.info.get("tls"):
            s.send("220 2.0.0 Ready to start TLS\r\n")
            s.sock = _tls_context.wrap_socket(s.sock, server_side=True)
            s.buf = b""
            s.info = dict(s.info, tls=True)
        elif verb == "AUTH":
            parts = line.split()
            mech = parts[1].upper() if len(parts) > 1 else ""
            if mech == "PLAIN":
                if len(parts) > 2:
                    blob = parts[2]
                else:
                    s.send("334 \r\n")
                    blob = s.readline()
                    if blob is None:
                        return  # the client left before its credential
                s.credential(line, decoded=b64(blob).replace("\0", " ").strip())
            elif mech == "LOGIN":
                s.send("334 VXNlcm5hbWU6\r\n")
                user = s.readline()
                if user is None:
                    return  # no user name came: no credential arrived
                s.send("334 UGFzc3dvcmQ6\r\n")
                pw = s.readline() or ""
                s.credential(line, decoded=b64(user) + " " + b64(pw))
            else:
                s.send("504 unrecognized authentication type\r\n")
                continue
            s.send("235 2.7.0 Authentication successful\r\n")
        elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
            s.send("250 OK\r\n")
        elif verb == "DATA":
            s.send("354 End data with <CR><LF>.<CR><LF>\r\n")
            size = 0
            for _ in range(10000):
                body = s.readline()
                if body is None:
                    return
                if body == ".":
                    break
                size += len(body)
            record("mail", s.info, size=size)
            s.send("250 OK queued as lab1\r\n")
        elif verb == "QUIT":
            s.send("221 Bye\r\n")
            return
        else:
            s.send("502 Command not implemented\r\n")


def serve_imap(s):
    s.send("* OK [CAPABILITY IMAP4rev1] labserver IMAP ready\r\n")
    for _ in range(MAX_LINES):
        line = s.readline()
        if line is None:
            return
        parts = line.split(" ", 2)
        tag = parts[0]
        cmd = parts[1].upper() if len(parts) > 1 else ""
        if cmd == "CAPABILITY":
            # Inside TLS the SASL mechanisms too (curl asks for XOAUTH2 only
            # when offered); plaintext stays LOGIN only.
            sasl = " AUTH=PLAIN AUTH=XOAUTH2" if s.info.get("tls") else ""
            s.send("* CAPABILITY IMAP4rev1%s\r\n%s OK CAPABILITY completed\r\n" % (sasl, tag))
        elif cmd == "LOGIN":
            s.credential(line)
            s.send("%s OK LOGIN completed\r\n" % tag)
        elif cmd == "AUTHENTICATE":
            s.send("+ \r\n")
            blob = s.readline()
            if blob is None:
                return  # the client left before its credential
            s.credential(line, decoded=b64(blob).replace("\0", " ").strip())
            s.send("%s OK AUTHENTICATE completed\r\n" % tag)
        elif cmd == "LIST":
            s.send('* LIST (\\HasNoChildren) "/" INBOX\r\n%s OK LIST completed\r\n' % tag)
        elif cmd in ("SELECT", "EXAMINE"):
            s.send("* 0 EXISTS\r\n%s OK [READ-WRITE] SELECT completed\r\n" % tag)
        elif cmd == "LOGOUT":
            s.send("* BYE labserver logging out\r\n%s OK LOGOUT completed\r\n" % tag)
            return
        elif cmd == "NOOP":
            s.send("%s OK NOOP completed\r\n" % tag)
        else:
            s.send("%s BAD command unknown\r\n" % tag)


def serve_pop3(s):
    s.send("+OK labserver POP3 ready\r\n")
    for _ in range(MAX_LINES):
        line = s.readline()
        if line is None:
            return
        cmd = line.split(" ", 1)[0].upper()
        if cmd == "CAPA":
            s.send("+OK\r\nUSER\r\n.\r\n")
        elif cmd in ("USER", "PASS", "APOP"):
            s.credential(line)
            s.send("+OK\r\n")
        elif cmd == "AUTH":
            s.send("-ERR not supported\r\n")
        elif cmd == "STAT":
            s.send("+OK 0 0\r\n")
        elif cmd in ("LIST", "UIDL"):
            s.send("+OK 0 messages\r\n.\r\n")
        elif cmd == "QUIT":
            s.send("+OK bye\r\n")
            return
        else:
            s.send("-ERR unknown\r\n")


def serve_http(s):
    request = s.readline()
    if request is None:
        return
    for _ in range(MAX_LINES):  # headers
        header = s.readline()
        if not header:
            break
        if header.lower().startswith("authorization:"):
            s.credential(request, header=header.split(":", 1)[0])
    parts = request.split()
    path = parts[1] if len(parts) > 1 else ""
    if path.lower() == "/autodiscover/autodiscover.xml":
        body, status = AUTODISCOVER_XML, "200 OK"
    else:
        body, status = "not found\n", "404 Not Found"
    data = body.encode()
    s.send("HTTP/1.1 %s\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
           "Connection: close\r\n\r\n" % (status, len(data)))
    s.sock.sendall(data)


def serve_banner(s):
    s.send("labserver port %d ready\r\n" % s.info["port"])
    s.readline()  # wait for the client to speak or leave, bounded by timeout


SERVERS = {"smtp": serve_smtp, "imap": serve_imap, "pop3": serve_pop3,
           "http": serve_http, "banner": serve_banner}


def handle(conn, peer, port, proto):
    local = conn.getsockname()[0]
    tls = _tls_context is not None and port in TLS_PROTOCOLS
    if tls:
        proto = TLS_PROTOCOLS[port]
    info = {"port": port, "proto": proto,
            "peer": peer[0].removeprefix("::ffff:"),
            "local": local.removeprefix("::ffff:")}
    if tls:
        info["tls"] = True
    try:
        conn.settimeout(IO_TIMEOUT)
        record("accept", info)
        if tls:
            conn = _tls_context.wrap_socket(conn, server_side=True)
        SERVERS[proto](Session(conn, info))
    except OSError:
        pass
    finally:
        conn.close()


def listener(sock, port, proto):
    while True:
        try:
            conn, peer = sock.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn, peer, port, proto),
                         daemon=True).start()


def open_listener(addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        # "::" takes IPv4 too (as ::ffff:a.b.c.d): one socket per port.
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                        0 if addr == "::" else 1)
    # TFO server side, so a client's MSG_FASTOPEN connect really completes.
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    except OSError:
        pass
    sock.bind((addr, port))
    sock.listen(64)
    return sock


def tls_context(directory):
    """A server context with a throw-away certificate made in DIRECTORY."""
    cert = os.path.join(directory, "labserver.crt")
    key = os.path.join(directory, "labserver.key")
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=mail.realcorp.net", "-keyout", key, "-out", cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    global _record_path, _tls_context
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", action="append", default=[],
                    help="address to listen on (repeatable; default ::)")
    ap.add_argument("--ports", default=",".join(str(p) for p in PROTOCOLS),
                    help="comma-separated ports (default: all known)")
    ap.add_argument("--record", required=True, help="JSON Lines record file")
    ap.add_argument("--ready", help="file created once every port listens")
    ap.add_argument("--tls-dir",
                    help="speak IMAP, SMTP, POP3 inside TLS on 993, 465, 995 "
                         "with a certificate made in this directory")
    args = ap.parse_args()
    _record_path = args.record
    if args.tls_dir:
        _tls_context = tls_context(args.tls_dir)
    addrs = args.listen or ["::"]
    ports = [int(p) for p in args.ports.split(",") if p]

    open(_record_path, "a").close()
    for addr in addrs:
        for port in ports:
            sock = open_listener(addr, port)
            threading.Thread(target=listener,
                             args=(sock, port, PROTOCOLS.get(port, "banner")),
                             daemon=True).start()
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
