#!/usr/bin/python3
"""Independent oracle for Bulkhead's Wire module.

Builds one or more packets of every wire format with scapy, lets scapy
dissect each one again, and prints a JSON list of
{"name", "hex", "fields"} where "fields" maps a field name (the names the
Swift side uses, e.g. "ip.ttl", "inner.tcp.opt.mss") to the value scapy
read, as a string. WireOracleTests parses the same bytes with Wire and
compares field by field.

Run: /usr/bin/python3 Tests/WireOracleTests/Oracles/scapy_packets.py
     ... scapy_packets.py --write-seeds DIR   (one binary file per packet,
     the fuzz seeds under Fuzz/WireParser/seeds)
"""
import os
import ipaddress
import json
import sys

from scapy.all import (
    ARP, Dot1AD, Dot1Q, Ether, ICMP, IP, IPerror, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, TCP, UDP,
    UDPerror, TCPerror, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA,
    ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPOption_RR, PadN,
    in4_chksum, in6_chksum, load_layer, raw,
)
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.layers.ipsec import AH, ESP, SecurityAssociation
from scapy.layers.vxlan import VXLAN
from scapy.utils import checksum

load_layer("tls")
from scapy.layers.tls.record import TLS, TLSApplicationData, TLSAlert  # noqa: E402
from scapy.layers.tls.handshake import TLSClientHello  # noqa: E402

MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"
# The packet being described, as built (see the Geneve note below).
BUILT = None


def v6(text):
    return ipaddress.IPv6Address(text).compressed


class Fields:
    def __init__(self):
        self.values = {}

    def put(self, key, value):
        if isinstance(value, bool):
            value = int(value)
        self.values[key] = str(value)


def header_length(layer):
    return len(raw(layer)) - len(raw(layer.payload))


def describe_tcp_options(f, p, tcp):
    for kind, value in tcp.options:
        if kind == "MSS":
            f.put(p + "tcp.opt.mss", value)
        elif kind == "WScale":
            f.put(p + "tcp.opt.wscale", value)
        elif kind == "SAckOK":
            f.put(p + "tcp.opt.sackok", 1)
        elif kind == "Timestamp":
            f.put(p + "tcp.opt.ts_val", value[0])
            f.put(p + "tcp.opt.ts_ecr", value[1])
        elif kind == "SAck":
            blocks = [f"{value[i]}-{value[i + 1]}" for i in range(0, len(value), 2)]
            f.put(p + "tcp.opt.sack", ",".join(blocks))


def describe_l4(f, p, layer, ip):
    """The upper layer `layer` under the IP header `ip` (IP or IPv6)."""
    is_v6 = isinstance(ip, IPv6)

    def l4_checksum_ok(proto, l4):
        data = raw(l4)
        return (in6_chksum(proto, ip, data) if is_v6 else in4_chksum(proto, ip, data)) == 0

    if isinstance(layer, UDP):
        f.put(p + "udp.sport", layer.sport)
        f.put(p + "udp.dport", layer.dport)
        f.put(p + "udp.len", layer.len)
        f.put(p + "udp.chksum_ok", l4_checksum_ok(17, layer))
        inner = layer.payload
        if isinstance(inner, VXLAN):
            f.put(p + "vxlan.flags", int(inner.flags))
            f.put(p + "vxlan.vni", inner.vni)
            describe_frame(f, "inner.", inner.payload)
        elif isinstance(inner, GENEVE):
            f.put(p + "geneve.ver", inner.version)
            f.put(p + "geneve.optlen", inner.optionlen * 4)
            f.put(p + "geneve.oam", inner.oam)
            f.put(p + "geneve.critical", inner.critical)
            f.put(p + "geneve.proto", inner.proto)
            f.put(p + "geneve.vni", inner.vni)
            # Scapy 2.5 dissects only the first Geneve option (the rest ends up
            # as its padding), so the list comes from the options scapy was
            # given to build; their encoding (lengths, layout) is still scapy's.
            built = BUILT[GENEVE] if p == "" else inner
            opts = [f"{o.classid}:{o.type}:{bytes(o.data).hex()}" for o in built.options]
            f.put(p + "geneve.options", ";".join(opts))
            if inner.proto == 0x6558:
                describe_frame(f, "inner.", inner.payload)
    elif isinstance(layer, TCP):
        f.put(p + "tcp.sport", layer.sport)
        f.put(p + "tcp.dport", layer.dport)
        f.put(p + "tcp.seq", layer.seq)
        f.put(p + "tcp.ack", layer.ack)
        f.put(p + "tcp.dataofs", layer.dataofs * 4)
        f.put(p + "tcp.flags", int(layer.flags))
        f.put(p + "tcp.window", layer.window)
        f.put(p + "tcp.urgptr", layer.urgptr)
        f.put(p + "tcp.chksum_ok", l4_checksum_ok(6, layer))
        describe_tcp_options(f, p, layer)
        if isinstance(layer.payload, TLS):
            tls = layer.payload
            f.put(p + "tls.type", tls.type)
            f.put(p + "tls.version", tls.version)
            f.put(p + "tls.len", tls.len)
    elif isinstance(layer, ICMP):
        f.put(p + "icmp.type", layer.type)
        f.put(p + "icmp.code", layer.code)
        f.put(p + "icmp.chksum_ok", checksum(raw(layer)) == 0)
        if layer.type in (0, 8):
            f.put(p + "icmp.id", layer.id)
            f.put(p + "icmp.seq", layer.seq)
        if layer.type == 3 and layer.code == 4:
            f.put(p + "icmp.nexthopmtu", layer.nexthopmtu)
        if isinstance(layer.payload, IPerror):
            q = layer.payload
            f.put(p + "icmp.quoted.src", q.src)
            f.put(p + "icmp.quoted.dst", q.dst)
            f.put(p + "icmp.quoted.proto", q.proto)
    elif isinstance(layer, ESP):
        f.put(p + "esp.spi", layer.spi)
        f.put(p + "esp.seq", layer.seq)
    elif layer.__class__.__name__.startswith("ICMPv6"):
        f.put(p + "icmpv6.type", layer.type)
        f.put(p + "icmpv6.code", layer.code)
        f.put(p + "icmpv6.chksum_ok", l4_checksum_ok(58, layer))
        if isinstance(layer, (ICMPv6EchoRequest, ICMPv6EchoReply)):
            f.put(p + "icmpv6.id", layer.id)
            f.put(p + "icmpv6.seq", layer.seq)
        if isinstance(layer, ICMPv6PacketTooBig):
            f.put(p + "icmpv6.mtu", layer.mtu)
        if isinstance(layer, (ICMPv6ND_NS, ICMPv6ND_NA)):
            f.put(p + "icmpv6.tgt", v6(layer.tgt))
        if isinstance(layer, ICMPv6ND_NA):
            f.put(p + "icmpv6.na.flags", layer.R << 7 | layer.S << 6 | layer.O << 5)
        if isinstance(layer, ICMPv6ND_RA):
            f.put(p + "icmpv6.ra.chlim", layer.chlim)
            f.put(p + "icmpv6.ra.routerlifetime", layer.routerlifetime)
            f.put(p + "icmpv6.ra.reachabletime", layer.reachabletime)
            f.put(p + "icmpv6.ra.retranstimer", layer.retranstimer)
        if ICMPv6NDOptSrcLLAddr in layer:
            f.put(p + "icmpv6.opt.src_lladdr", layer[ICMPv6NDOptSrcLLAddr].lladdr)
        if ICMPv6NDOptDstLLAddr in layer:
            f.put(p + "icmpv6.opt.tgt_lladdr", layer[ICMPv6NDOptDstLLAddr].lladdr)


EXTENSION_HEADERS = (IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, IPv6ExtHdrFragment, AH)


def describe_frame(f, p, eth):
    f.put(p + "eth.dst", eth.dst)
    f.put(p + "eth.src", eth.src)
    layer = eth.payload
    ether_type = eth.type
    tags = 0
    while isinstance(layer, (Dot1Q, Dot1AD)):
        f.put(p + f"vlan{tags}.id", layer.vlan)
        f.put(p + f"vlan{tags}.prio", layer.prio)
        f.put(p + f"vlan{tags}.dei", layer.id)
        ether_type = layer.type
        layer = layer.payload
        tags += 1
    f.put(p + "eth.type", ether_type)
    if isinstance(layer, ARP):
        f.put(p + "arp.op", layer.op)
        f.put(p + "arp.hwsrc", layer.hwsrc)
        f.put(p + "arp.psrc", layer.psrc)
        f.put(p + "arp.hwdst", layer.hwdst)
        f.put(p + "arp.pdst", layer.pdst)
    elif isinstance(layer, IP):
        f.put(p + "ip.ihl", layer.ihl * 4)
        f.put(p + "ip.tos", layer.tos)
        f.put(p + "ip.len", layer.len)
        f.put(p + "ip.id", layer.id)
        f.put(p + "ip.df", int(layer.flags) & 2 != 0)
        f.put(p + "ip.mf", int(layer.flags) & 1 != 0)
        f.put(p + "ip.frag", layer.frag)
        f.put(p + "ip.ttl", layer.ttl)
        f.put(p + "ip.proto", layer.proto)
        f.put(p + "ip.chksum_ok", checksum(raw(layer)[: layer.ihl * 4]) == 0)
        f.put(p + "ip.src", layer.src)
        f.put(p + "ip.dst", layer.dst)
        if layer.frag == 0:
            describe_l4(f, p, layer.payload, layer)
    elif isinstance(layer, IPv6):
        f.put(p + "ipv6.tc", layer.tc)
        f.put(p + "ipv6.fl", layer.fl)
        f.put(p + "ipv6.plen", layer.plen)
        f.put(p + "ipv6.nh", layer.nh)
        f.put(p + "ipv6.hlim", layer.hlim)
        f.put(p + "ipv6.src", v6(layer.src))
        f.put(p + "ipv6.dst", v6(layer.dst))
        upper = layer.payload
        count = 0
        offset = 0
        later_fragment = False
        next_header = layer.nh
        while isinstance(upper, EXTENSION_HEADERS):
            count += 1
            offset += header_length(upper)
            next_header = upper.nh
            if isinstance(upper, IPv6ExtHdrFragment):
                f.put(p + "ipv6.frag.offset", upper.offset * 8)
                f.put(p + "ipv6.frag.m", upper.m)
                f.put(p + "ipv6.frag.id", upper.id)
                later_fragment = upper.offset != 0
            upper = upper.payload
        f.put(p + "ipv6.exthdrs", count)
        f.put(p + "ipv6.upper", next_header)
        f.put(p + "ipv6.upper_offset", offset)
        if not later_fragment:
            describe_l4(f, p, upper, layer)


def esp_null(inner, spi, seq, tunnel_header=None):
    """ESP with NULL encryption and authentication: the trailer is in the clear."""
    sa = SecurityAssociation(ESP, spi=spi, seq_num=seq, crypt_algo="NULL", auth_algo="NULL", tunnel_header=tunnel_header)
    return sa.encrypt(inner)


def packets():
    eth = Ether(dst=MAC_B, src=MAC_A)
    v4 = dict(src="10.0.0.1", dst="10.0.0.2")
    v6a = dict(src="2001:db8::a", dst="2001:db8::b")
    inner_v6_tcp = (Ether(dst="02:00:00:00:01:02", src="02:00:00:00:01:01") / IPv6(src="fd00::1", dst="fd00::2")
                    / TCP(sport=40000, dport=22, flags="PA", seq=7, ack=9) / Raw(b"ssh"))
    inner_v4_udp = (Ether(dst="02:00:00:00:01:02", src="02:00:00:00:01:01") / IP(src="192.168.0.1", dst="192.168.0.2")
                    / UDP(sport=1234, dport=80) / Raw(b"xyz"))
    yield "vlan_ipv4_udp", eth / Dot1Q(vlan=42, prio=3, id=1) / IP(ttl=17, id=0x1234, flags="DF", tos=0xb9, **v4) / UDP(sport=5000, dport=53) / Raw(b"hello")
    yield "qinq_ipv4_tcp", Ether(dst=MAC_B, src=MAC_A, type=0x88a8) / Dot1AD(vlan=100) / Dot1Q(vlan=200) / IP(**v4) / TCP(sport=1, dport=2, flags="S")
    yield "ipv4_options_icmp_echo", eth / IP(options=[IPOption_RR()], **v4) / ICMP(type=8, id=0x4242, seq=3) / Raw(b"ping")
    yield "ipv4_first_fragment", eth / IP(flags="MF", id=77, **v4) / UDP(sport=9, dport=9) / Raw(b"a" * 32)
    yield "ipv4_later_fragment", eth / IP(frag=185, proto=17, id=77, **v4) / Raw(b"b" * 16)
    yield "arp_reply", eth / ARP(op=2, hwsrc=MAC_A, psrc="10.0.0.1", hwdst=MAC_B, pdst="10.0.0.2")
    yield "arp_request", Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC_A) / ARP(op=1, hwsrc=MAC_A, psrc="10.0.0.1", pdst="10.0.0.9")
    yield "ipv6_extension_headers_udp", (eth / IPv6(tc=0xb8, fl=0xabcde, hlim=9, **v6a) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00" * 4)])
                                         / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 12)])
                                         / IPv6ExtHdrRouting(addresses=["2001:db8::c"], segleft=0)
                                         / IPv6ExtHdrFragment(m=1, id=0xfeedf00d) / UDP(sport=1, dport=2) / Raw(b"v6"))
    yield "ipv6_later_fragment", eth / IPv6(**v6a) / IPv6ExtHdrFragment(offset=3, m=0, id=5, nh=17) / Raw(b"c" * 8)
    yield "ipv6_tcp_syn_options", eth / IPv6(**v6a) / TCP(sport=33000, dport=443, seq=0x01020304, flags="S", window=64240,
                                                          options=[("MSS", 1440), ("SAckOK", b""), ("Timestamp", (11, 0)), ("NOP", None), ("WScale", 7)])
    yield "ipv4_tcp_sack", eth / IP(**v4) / TCP(sport=80, dport=50000, flags="A", seq=1000, ack=2000,
                                              options=[("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400)), ("NOP", None), ("NOP", None), ("Timestamp", (5, 6))])
    yield "icmp_frag_needed", eth / IP(**v4) / ICMP(type=3, code=4, nexthopmtu=1400) / IP(src="10.0.0.2", dst="10.9.9.9", flags="DF") / UDP(sport=1000, dport=2000) / Raw(b"q" * 8)
    yield "icmp_time_exceeded", eth / IP(**v4) / ICMP(type=11, code=0) / IP(src="10.0.0.2", dst="10.9.9.9", proto=6) / TCP(sport=1, dport=2)
    yield "icmpv6_echo_request", eth / IPv6(**v6a) / ICMPv6EchoRequest(id=9, seq=10, data=b"abc")
    yield "icmpv6_packet_too_big", eth / IPv6(**v6a) / ICMPv6PacketTooBig(mtu=1280) / IPv6(src="2001:db8::b", dst="2001:db8::99") / UDP()
    yield "icmpv6_time_exceeded", eth / IPv6(**v6a) / ICMPv6TimeExceeded() / IPv6(src="2001:db8::b", dst="2001:db8::99") / UDP()
    yield "icmpv6_neighbor_solicitation", (Ether(dst="33:33:ff:00:00:0b", src=MAC_A) / IPv6(src="2001:db8::a", dst="ff02::1:ff00:b", hlim=255)
                                           / ICMPv6ND_NS(tgt="2001:db8::b") / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A))
    yield "icmpv6_neighbor_advertisement", (eth / IPv6(hlim=255, **v6a) / ICMPv6ND_NA(tgt="2001:db8::b", R=0, S=1, O=1)
                                            / ICMPv6NDOptDstLLAddr(lladdr=MAC_B))
    yield "icmpv6_router_solicitation", Ether(dst="33:33:00:00:00:02", src=MAC_A) / IPv6(src="fe80::a", dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A)
    yield "icmpv6_router_advertisement", (Ether(dst="33:33:00:00:00:01", src=MAC_B) / IPv6(src="fe80::b", dst="ff02::1", hlim=255)
                                          / ICMPv6ND_RA(chlim=64, M=1, O=1, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
                                          / ICMPv6NDOptSrcLLAddr(lladdr=MAC_B))
    yield "vxlan_inner_ipv6_tcp", eth / Dot1Q(vlan=7) / IP(**v4) / UDP(sport=49152, dport=4789) / VXLAN(vni=0x123456) / inner_v6_tcp
    yield "geneve_options_inner_ipv4_udp", (eth / IP(**v4) / UDP(sport=49153, dport=6081)
                                            / GENEVE(vni=0xabcdef, proto=0x6558, critical=1, options=[
                                                GeneveOptions(classid=0x0102, type=0x80, data=b"\x01\x02\x03\x04"),
                                                GeneveOptions(classid=0xffff, type=0x01, data=b"12345678")])
                                            / inner_v4_udp)
    yield "geneve_oam_no_options", eth / IP(**v4) / UDP(sport=49154, dport=6081) / GENEVE(vni=5, proto=0x6558, oam=1) / inner_v4_udp
    yield "esp_null_tunnel", eth / esp_null(IP(src="192.168.0.1", dst="192.168.0.2") / UDP(sport=1, dport=2) / Raw(b"secret"), 0x1000_0001, 42, IP(**v4))
    yield "esp_null_transport", eth / esp_null(IP(**v4) / TCP(sport=1, dport=2) / Raw(b"abcd"), 0xc0ffee, 7)
    yield "tls_application_data", eth / IP(**v4) / TCP(sport=50000, dport=443, flags="PA") / TLS(type=23, version=0x0303, msg=[TLSApplicationData(data=b"hello tls")])
    yield "tls_client_hello", eth / IP(**v4) / TCP(sport=50001, dport=443, flags="PA") / TLS(version=0x0301, msg=[TLSClientHello()])
    yield "tls_alert", eth / IP(**v4) / TCP(sport=443, dport=50002, flags="PA") / TLS(type=21, version=0x0303, msg=[TLSAlert(level=2, descr=40)])


def describe_esp_trailer(f, frame):
    """For NULL-encrypted ESP the decrypted payload is the ESP payload."""
    esp = frame[ESP]
    sa = SecurityAssociation(ESP, spi=esp.spi, crypt_algo="NULL", auth_algo="NULL")
    plain = sa.crypt_algo.decrypt(sa, esp, sa.crypt_key, 0)
    f.put("esp.trailer.padlen", plain.padlen)
    f.put("esp.trailer.nh", plain.nh)


def main():
    out = []
    global BUILT
    for name, packet in packets():
        BUILT = packet
        data = raw(packet)
        frame = Ether(data)
        f = Fields()
        describe_frame(f, "", frame)
        if ESP in frame:
            describe_esp_trailer(f, frame)
        out.append({"name": name, "hex": data.hex(), "fields": f.values})
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


# Address and prefix text, for the fuzz target's text parsers.
TEXT_SEEDS = ["10.0.0.1", "10.0.0.0/8", "2001:db8::1", "::ffff:192.0.2.1", "fe80::/10", "02:00:5e:10:00:01"]


def write_seeds(folder):
    os.makedirs(folder, exist_ok=True)
    for name, packet in packets():
        with open(os.path.join(folder, name), "wb") as out:
            out.write(raw(packet))
    for index, text in enumerate(TEXT_SEEDS):
        with open(os.path.join(folder, f"text_{index}"), "w") as out:
            out.write(text)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write-seeds":
        write_seeds(sys.argv[2])
    else:
        main()
