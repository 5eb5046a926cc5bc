#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Regenerate the seed corpus of tests/fuzz/fuzz_dns.c (tests/fuzz/corpus/).

Real messages: queries built here and the answers of a dnsmasq started in a
private network namespace (loopback only, nothing leaves it), including a
truncated (TC=1) answer and its 4096-byte EDNS0 sibling. Hostile messages:
built byte by byte. Needs root (unshare -n) and dnsmasq-base.

    sudo tests/fuzz/mkcorpus.py            # writes tests/fuzz/corpus/*.bin
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
T = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
     "AAAA": 28, "SRV": 33, "OPT": 41, "ANY": 255}


def name(n):
    if n in ("", "."):
        return b"\0"
    return b"".join(bytes([len(l)]) + l.encode() for l in n.rstrip(".").split(".")) + b"\0"


def opt(size=4096, cookie=True):
    rdata = struct.pack("!HH", 10, 8) + b"\x01\x02\x03\x04\x05\x06\x07\x08" if cookie else b""
    return b"\0" + struct.pack("!HHIH", T["OPT"], size, 0x8000, len(rdata)) + rdata


def query(qid, qname, qtype, edns=False, flags=0x0100):
    q = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    q += name(qname) + struct.pack("!HH", T[qtype], 1)
    return q + (opt() if edns else b"")


def rr(owner, rtype, rdata, ttl=300, cls=1):
    rtype = T[rtype] if isinstance(rtype, str) else rtype
    return owner + struct.pack("!HHIH", rtype, cls, ttl, len(rdata)) + rdata


def hdr(qid=0x4242, flags=0x8180, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


QN = b"\xc0\x0c"
A1 = socket.inet_aton("198.18.7.1")

QUERIES = [
    ("autodiscover.example.com", "A", False),
    ("autodiscover.example.com", "AAAA", True),
    ("AuToDiScOvEr.ExAmPlE.CoM", "A", False),
    ("imap.example.com", "A", True),
    ("example.com", "MX", False),
    ("_autodiscover._tcp.example.com", "SRV", True),
    ("big.example.com", "A", False),  # over 512 bytes: TC=1
    ("big.example.com", "A", True),   # EDNS0 4096: the whole answer
    ("example.com", "TXT", False),
    ("nothere.example.com", "A", False),
    ("mail.realcorp.net", "A", False),
    ("1.0.0.10.in-addr.arpa", "PTR", False),
    ("host.corp.test", "ANY", True),
    ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 49 + ".example.com", "A", False),
]


def dnsmasq_pairs():
    """(query, answer) pairs from a dnsmasq on 127.0.0.1 in a private netns."""
    if os.geteuid() != 0:
        sys.exit("mkcorpus: needs root (a private network namespace for dnsmasq)")
    with tempfile.TemporaryDirectory() as d:
        hosts = os.path.join(d, "hosts")
        with open(hosts, "w") as f:
            for i in range(1, 41):
                f.write("198.18.7.%d big.example.com\n" % i)
        args = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", "--bind-interfaces", "--listen-address=127.0.0.1",
                "--port=53", "--user=root", "--group=root", "--pid-file=" + d + "/pid",
                "--local=/#/", "--addn-hosts=" + hosts,
                "--host-record=autodiscover.example.com,198.18.2.10,2001:db8:2::10",
                "--host-record=mail.realcorp.net,198.18.1.25,2001:db8:1::25",
                "--host-record=host.corp.test,198.18.2.40,2001:db8:2::40",
                "--host-record=" + QUERIES[-1][0] + ",198.18.2.99",
                "--cname=imap.example.com,mail.realcorp.net",
                "--mx-host=example.com,mail.realcorp.net,10",
                "--srv-host=_autodiscover._tcp.example.com,mail.realcorp.net,443,0,0",
                "--txt-record=example.com,v=spf1 -all",
                "--ptr-record=1.0.0.10.in-addr.arpa,printer.example"]
        script = os.path.join(d, "ask.py")
        with open(script, "w") as f:
            f.write(ASK)
        out = os.path.join(d, "pairs")
        with open(os.path.join(d, "queries"), "wb") as f:
            for i, (n, t, e) in enumerate(QUERIES):
                q = query(0x1000 + i, n, t, e)
                f.write(struct.pack("!H", len(q)) + q)
        subprocess.run(["unshare", "-n", "sh", "-c",
                        'ip link set lo up || exit 1; s=$0 q=$1 o=$2; shift 2; "$@" & pid=$!; '
                        '/usr/bin/python3 "$s" "$q" "$o"; rc=$?; kill $pid; wait $pid; exit $rc',
                        script, os.path.join(d, "queries"), out] + args, check=True)
        data = open(out, "rb").read()
    pairs, i = [], 0
    while i < len(data):
        lq, la, tcp = struct.unpack("!HHB", data[i:i + 5])
        i += 5
        pairs.append((data[i:i + lq], data[i + lq:i + lq + la], tcp))
        i += lq + la
    return pairs


# Runs inside the namespace: waits for dnsmasq, asks every query over UDP
# (and over TCP when the answer is truncated), writes the pairs.
ASK = r'''
import socket, struct, sys, time
qs, out = open(sys.argv[1], "rb").read(), open(sys.argv[2], "wb")
i = 0
while i < len(qs):
    n = struct.unpack("!H", qs[i:i + 2])[0]
    q = qs[i + 2:i + 2 + n]
    i += 2 + n
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(q, ("127.0.0.1", 53))
            a = s.recv(65535)
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("dnsmasq does not answer")
    out.write(struct.pack("!HHB", len(q), len(a), 0) + q + a)
    if a[2] & 0x02:  # TC: the same over TCP
        t = socket.create_connection(("127.0.0.1", 53), timeout=2)
        t.sendall(struct.pack("!H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            c = t.recv(65535)
            if not c:
                break
            buf += c
        out.write(struct.pack("!HHB", len(q), len(buf) - 2, 1) + q + buf[2:])
out.close()
'''


def hostile():
    """Answers no server should send."""
    q = name("mail.example.com") + struct.pack("!HH", 1, 1)
    a = {}
    off = 12 + len(q)
    a["a-ptr-self-owner"] = hdr(an=2) + q + rr(QN, "A", A1) + \
        rr(struct.pack("!H", 0xc000 | (off + 16)), "A", A1)
    a["a-ptr-loop-owner"] = hdr(an=1) + q + rr(b"\x04mail" + struct.pack("!H", 0xc000 | off), "A", A1)
    a["a-ptr-pair-owner"] = hdr(an=1) + q + rr(struct.pack("!HH", 0xc000 | (off + 2), 0xc000 | off), "A", A1)
    a["a-ptr-forward-out"] = hdr(an=1) + q + rr(b"\xc3\xff", "A", A1)
    a["a-ptr-into-header"] = hdr(an=1) + q + rr(b"\xc0\x04", "A", A1)
    a["a-cname-self"] = hdr(an=2) + q + rr(QN, "CNAME", struct.pack("!H", 0xc000 | (off + 12))) + rr(QN, "A", A1)
    a["a-label-0x40"] = hdr(an=1) + q + rr(b"\x40" + b"a" * 64 + QN, "A", A1)
    a["a-label-0x80-question"] = hdr(an=1) + b"\x80" + b"a" * 10 + b"\0\0\1\0\1" + rr(QN, "A", A1)
    a["a-name-over-255"] = hdr(an=1) + q + rr((b"\x3f" + b"b" * 63) * 4 + QN, "A", A1)
    a["a-qdcount-0"] = hdr(qd=0, an=1) + q + rr(QN, "A", A1)
    a["a-qdcount-2"] = hdr(qd=2, an=1) + q + q + rr(QN, "A", A1)
    a["a-ancount-50"] = hdr(an=50) + q + rr(QN, "A", A1)
    a["a-truncated-rdata"] = (hdr(an=1) + q + rr(QN, "A", A1))[:-2]
    a["a-rdlen-past-end"] = hdr(an=1) + q + QN + struct.pack("!HHIH", 1, 1, 300, 200) + A1
    a["a-tc-partial"] = hdr(flags=0x8380, an=3) + q + rr(QN, "A", A1)
    a["a-edns-opt"] = hdr(an=1, ar=2) + q + rr(QN, "A", A1) + opt() + rr(QN, "A", A1)
    a["a-chain-5"] = hdr(an=6) + q + rr(QN, "CNAME", name("c1.realcorp.net")) + b"".join(
        rr(name("c%d.realcorp.net" % i), "CNAME", name("c%d.realcorp.net" % (i + 1))) for i in range(1, 5)) + \
        rr(name("c4.realcorp.net"), "A", A1)
    # a chain of 17 listed backwards (one walk per link), ending in a loop
    links = [rr(QN, "CNAME", name("c1.realcorp.net"))] + [
        rr(name("c%d.realcorp.net" % i), "CNAME", name("c%d.realcorp.net" % (i + 1))) for i in range(1, 17)]
    links.append(rr(name("c17.realcorp.net"), "CNAME", name("c1.realcorp.net")))
    a["a-chain-17-reversed"] = hdr(an=19) + q + rr(name("c17.realcorp.net"), "A", A1) + b"".join(reversed(links))
    a["a-mx-12"] = hdr(an=12, ar=12) + name("example.com") + struct.pack("!HH", T["MX"], 1) + b"".join(
        rr(b"\xc0\x0c", "MX", struct.pack("!H", 10 * i) + name("mx%d.realcorp.net" % i)) for i in range(12)) + \
        b"".join(rr(name("mx%d.realcorp.net" % i), "A", socket.inet_aton("198.18.7.%d" % (100 + i)))
                 for i in range(12))
    a["a-ttl-top-bit"] = hdr(an=1) + q + rr(QN, "A", A1, ttl=0x80000001)
    a["a-class-ch"] = hdr(an=1) + q + rr(QN, "A", A1, cls=3)
    big = hdr(an=64) + q
    pad = 4096 - len(big) - 16
    for i in range(63):
        n = pad // 63 + (i < pad % 63) - 12
        big += rr(QN, "TXT", bytes([n - 1]) + b"t" * (n - 1))
    big += rr(QN, "A", A1)
    assert len(big) == 4096
    a["a-4096-bytes"] = big
    a["q-forward-pointer"] = struct.pack("!HHHHHH", 0x4444, 0x0100, 1, 0, 0, 0) + b"\xc0\x12" + \
        struct.pack("!HH", 1, 1) + name("autodiscover.example.com")
    a["q-label-64"] = struct.pack("!HHHHHH", 0x4444, 0x0100, 1, 0, 0, 0) + bytes([64]) + b"a" * 64 + \
        name("example.com") + struct.pack("!HH", 1, 1)
    return a


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".bin"):
            os.unlink(os.path.join(OUT, f))
    for q, a, tcp in dnsmasq_pairs():
        qn, qt = QUERIES[struct.unpack("!H", q[:2])[0] - 0x1000][:2]
        base = "%s-%s" % (qn.split(".")[0][:12].lower(), qt.lower())
        if qn != qn.lower():
            base += "-0x20"
        if q[11]:  # ARCOUNT: the OPT record
            base += "-edns"
        open(os.path.join(OUT, "q-" + base + ".bin"), "wb").write(q)
        if a[2] & 0x02:
            base += "-tc"
        if tcp:
            base += "-tcp"
        open(os.path.join(OUT, "dnsmasq-" + base + ".bin"), "wb").write(a)
    for k, v in hostile().items():
        open(os.path.join(OUT, k + ".bin"), "wb").write(v)
    print("mkcorpus: %d files in %s" % (len(os.listdir(OUT)), OUT))


if __name__ == "__main__":
    main()
