#!/usr/bin/python3
"""Runs inside the test's network namespace: sends one UDP datagram from
the overlay address through the kernel's vxlan device and captures, with
an AF_PACKET socket on the far end of the veth pair, the frame the kernel
put on the underlay. Prints the frame as hex."""
import socket
import sys
import time

capture_interface, source, destination, payload = sys.argv[1:5]
capture = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
capture.bind((capture_interface, 0))
capture.settimeout(5)
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sender.bind((source, 40000))
sender.sendto(payload.encode(), (destination, 53))
deadline = time.time() + 5
while time.time() < deadline:
    frame = capture.recv(65535)
    # IPv4 / UDP to 4789: the encapsulated datagram.
    if len(frame) > 42 and frame[12:14] == b"\x08\x00" and frame[23] == 17 and frame[36:38] == b"\x12\xb5":
        print(frame.hex())
        sys.exit(0)
sys.exit("no VXLAN frame captured")
