#!/usr/bin/python3
"""Builds underlay frames with scapy (Geneve with and without options,
and with the critical bit) from the arguments and prints them as hex, one
per line: the Geneve half of the ingress interop test (the host kernel has
no geneve module; a Linux-guest Geneve capture comes with the guest
images)."""
import sys

from scapy.all import Ether, IP, UDP, Raw
from scapy.contrib.geneve import GENEVE, GeneveOptions

card_mac, router_mac, vtep, card, vni, inner_src_mac, inner_dst_mac, inner_src, inner_dst = sys.argv[1:10]
vni = int(vni)
inner = Ether(src=inner_src_mac, dst=inner_dst_mac) / IP(src=inner_src, dst=inner_dst) / UDP(sport=53, dport=40000) / Raw(b"scapy-geneve-payload")
outer = Ether(src=router_mac, dst=card_mac) / IP(src=vtep, dst=card) / UDP(sport=51000, dport=6081)
plain = outer / GENEVE(vni=vni, proto=0x6558) / inner
with_option = outer / GENEVE(vni=vni, proto=0x6558, options=[GeneveOptions(classid=0x0102, type=0x01, data=b"\x00\x00\x00\x2a")]) / inner
critical = outer / GENEVE(vni=vni, proto=0x6558, critical=1, options=[GeneveOptions(classid=0x0102, type=0x81, data=b"\x00\x00\x00\x2a")]) / inner
for p in (plain, with_option, critical):
    print(bytes(p).hex())
print(bytes(inner).hex())
