// The same per-packet job as bench-wire's Swift path, in plain C, as the
// peer measured side by side in the same run (Docs/benchmarks.md).
#ifndef WIRE_PEER_H
#define WIRE_PEER_H
#include <stddef.h>
#include <stdint.h>

// Parses Ethernet/IPv4/UDP/VXLAN/Ethernet/IPv4/UDP at each of `count`
// frames, rewrites outer destination, VNI, UDP source port and TTLs,
// and recomputes the checksums. Returns the number of frames handled.
int wire_peer_process(uint8_t *const *frames, const size_t *lengths, int count, uint32_t new_vtep);

#endif
