#!/usr/bin/python3
"""An outside site's IPsec gateway, with scapy's ESP (an implementation
that is not Bulkhead's): it opens the tunnel-mode ESP a card sends it,
answers the ICMP echo requests inside to the site's address, and seals the
replies with the other SA. Runs in the site's namespace; prints "ready"
once it listens and one summary line when `--count` echoes were answered
(or the time ran out).

  esp_site_gateway.py --iface eth0 --gateway 192.0.2.9 --card 192.0.2.1 \
      --card-mac MAC --site-ip 10.254.1.1 --cipher-bytes 36 \
      --spi-from-card N --key-from-card HEX --spi-to-card N --key-to-card HEX \
      [--esn] [--seq-to-card N] --count N --timeout S
"""
import argparse
import sys

from scapy.all import AsyncSniffer, Ether, ICMP, IP, Raw, conf, get_if_hwaddr, sendp
from scapy.layers.ipsec import ESP, SecurityAssociation

conf.verb = 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--gateway", required=True)
    p.add_argument("--card", required=True)
    p.add_argument("--card-mac", required=True)
    p.add_argument("--site-ip", required=True)
    p.add_argument("--spi-from-card", type=lambda s: int(s, 0), required=True)
    p.add_argument("--key-from-card", required=True)
    p.add_argument("--spi-to-card", type=lambda s: int(s, 0), required=True)
    p.add_argument("--key-to-card", required=True)
    p.add_argument("--esn", action="store_true")
    # The first sequence number sealed towards the card: an SA used again by
    # a new run must go on where the last one stopped (anti-replay).
    p.add_argument("--seq-to-card", type=int, default=1)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()

    def sa(spi, key, src, dst, seq=1):
        # AES-GCM (RFC 4106): scapy takes the key with the 4-byte salt last.
        return SecurityAssociation(
            ESP, spi=spi, seq_num=seq, crypt_algo="AES-GCM", crypt_key=bytes.fromhex(key.removeprefix("0x")),
            crypt_icv_size=16, tunnel_header=IP(src=src, dst=dst), esn_en=a.esn)

    opener = sa(a.spi_from_card, a.key_from_card, a.card, a.gateway)
    sealer = sa(a.spi_to_card, a.key_to_card, a.gateway, a.card, a.seq_to_card)
    mac = get_if_hwaddr(a.iface)
    counts = {"opened": 0, "failed": 0, "answered": 0}

    def handle(frame):
        if IP not in frame or frame[IP].src != a.card or ESP not in frame:
            return
        esp = frame[IP]
        if esp[ESP].spi != a.spi_from_card:
            return
        try:
            inner = opener.decrypt(IP(bytes(esp)))
        except Exception as error:  # a packet that does not open is counted, not fatal
            counts["failed"] += 1
            print("open failed:", error, file=sys.stderr, flush=True)
            return
        counts["opened"] += 1
        if ICMP in inner and inner[ICMP].type == 8 and inner.dst == a.site_ip:
            reply = IP(src=a.site_ip, dst=inner.src, ttl=64) / ICMP(
                type=0, id=inner[ICMP].id, seq=inner[ICMP].seq) / Raw(bytes(inner[ICMP].payload))
            reply = IP(bytes(reply))
            sealed = sealer.encrypt(reply)
            sendp(Ether(src=mac, dst=a.card_mac) / sealed, iface=a.iface)
            counts["answered"] += 1

    sniffer = AsyncSniffer(
        iface=a.iface, filter="ip proto 50", prn=handle, store=False,
        stop_filter=lambda _: counts["answered"] >= a.count,
        started_callback=lambda: print("ready", flush=True), timeout=a.timeout)
    sniffer.start()
    sniffer.join()
    print("site gateway: opened %d, failed %d, answered %d" % (counts["opened"], counts["failed"], counts["answered"]),
          flush=True)
    return 0 if counts["answered"] >= a.count else 1


if __name__ == "__main__":
    sys.exit(main())
