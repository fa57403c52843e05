#!/usr/bin/python3
"""Decodes encapsulated frames from a pcap with scapy and prints, per
frame, one JSON object of the outer and inner fields the data plane
writes. Used by DataPlaneInteropTests (scapy as an independent decoder)."""
import json
import sys

from scapy.all import rdpcap, Ether, IP, IPv6, UDP
from scapy.contrib.geneve import GENEVE
from scapy.layers.vxlan import VXLAN
from scapy.packet import bind_layers

bind_layers(UDP, GENEVE, dport=6081)

for frame in rdpcap(sys.argv[1]):
    out = {"eth_dst": frame[Ether].dst, "eth_src": frame[Ether].src}
    outer_ip = frame[IP] if IP in frame else frame[IPv6]
    out["ip_src"] = outer_ip.src
    out["ip_dst"] = outer_ip.dst
    if IP in frame:
        stored = frame[IP].chksum
        recomputed = IP(bytes(frame[IP]))
        del recomputed.chksum
        out["ip_checksum_ok"] = IP(bytes(recomputed)).chksum == stored
        out["ip_len_ok"] = frame[IP].len == len(bytes(frame[IP]))
        out["df"] = bool(frame[IP].flags & 2)
    udp = frame[UDP]
    out["udp_sport"] = udp.sport
    out["udp_dport"] = udp.dport
    out["udp_len_ok"] = udp.len == len(bytes(udp))
    if GENEVE in frame:
        g = frame[GENEVE]
        out["kind"] = "geneve"
        out["vni"] = g.vni
        out["proto"] = g.proto
        inner = g.payload
    elif VXLAN in frame:
        v = frame[VXLAN]
        out["kind"] = "vxlan"
        out["vni"] = v.vni
        out["vxlan_flags"] = int(v.flags)
        inner = v.payload
    else:
        out["kind"] = "none"
        inner = None
    if inner is not None and Ether in inner:
        out["inner_eth_dst"] = inner[Ether].dst
        out["inner_ip_src"] = inner[IP].src if IP in inner else inner[IPv6].src
        out["inner_ip_dst"] = inner[IP].dst if IP in inner else inner[IPv6].dst
    print(json.dumps(out))
