#include "wire_peer.h"
#include <string.h>

static inline uint16_t load16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return __builtin_bswap16(v); }
static inline uint32_t load32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
static inline void store16(uint8_t *p, uint16_t v) { v = __builtin_bswap16(v); memcpy(p, &v, 2); }
static inline void store32(uint8_t *p, uint32_t v) { v = __builtin_bswap32(v); memcpy(p, &v, 4); }

static inline uint32_t fold(uint64_t s) {
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return (uint32_t)s;
}

// RFC 1071 sum, 64-bit native accumulation, byte-swapped once at the end.
static uint32_t sum(const uint8_t *p, size_t n, uint32_t initial) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w; memcpy(&w, p + i, 8);
    acc += w; acc += (acc < w);
  }
  uint64_t tail = 0;
  if (i + 4 <= n) { uint32_t w; memcpy(&w, p + i, 4); tail += w; i += 4; }
  if (i + 2 <= n) { uint16_t w; memcpy(&w, p + i, 2); tail += w; i += 2; }
  if (i < n) tail += p[i];
  uint64_t s = acc + tail; s += (s < tail);
  uint16_t native = (uint16_t)fold(s);
  return fold((uint64_t)initial + __builtin_bswap16(native));
}

static inline uint16_t update16(uint16_t hc, uint16_t old, uint16_t new_) {
  return (uint16_t)~fold((uint64_t)(uint16_t)~hc + (uint16_t)~old + new_);
}

static inline uint16_t update32(uint16_t hc, uint32_t old, uint32_t new_) {
  uint64_t s = (uint16_t)~hc;
  s += (uint16_t)~(old >> 16); s += (uint16_t)~(old & 0xffff);
  s += new_ >> 16; s += new_ & 0xffff;
  return (uint16_t)~fold(s);
}

static int process_one(uint8_t *f, size_t len, uint32_t vtep) {
  if (len < 14 + 20 || load16(f + 12) != 0x0800) return 0;
  uint8_t *ip = f + 14;
  size_t room = len - 14;
  if (ip[0] >> 4 != 4) return 0;
  size_t ihl = (size_t)(ip[0] & 0xf) * 4;
  size_t total = load16(ip + 2);
  if (ihl < 20 || ihl > room || total < ihl || total > room || ip[9] != 17) return 0;
  uint8_t *udp = ip + ihl;
  size_t udp_room = total - ihl;
  if (udp_room < 8) return 0;
  size_t udp_len = load16(udp + 4);
  if (udp_len < 8 || udp_len > udp_room || load16(udp + 2) != 4789) return 0;
  uint8_t *vx = udp + 8;
  size_t vx_room = udp_len - 8;
  if (vx_room < 8 || !(vx[0] & 0x08)) return 0;
  uint8_t *in = vx + 8;
  size_t in_room = vx_room - 8;
  if (in_room < 14 + 20 || load16(in + 12) != 0x0800) return 0;
  uint8_t *iip = in + 14;
  size_t iroom = in_room - 14;
  if (iip[0] >> 4 != 4) return 0;
  size_t iihl = (size_t)(iip[0] & 0xf) * 4;
  size_t itotal = load16(iip + 2);
  if (iihl < 20 || iihl > iroom || itotal < iihl || itotal > iroom) return 0;
  uint8_t *iudp = iip + iihl;
  if (itotal - iihl < 8) return 0;
  uint16_t sport = load16(iudp), dport = load16(iudp + 2);

  // Inner: TTL - 1 with the checksum patched.
  uint16_t old_word = load16(iip + 8), new_word = (uint16_t)(old_word - 0x0100);
  store16(iip + 8, new_word);
  store16(iip + 10, update16(load16(iip + 10), old_word, new_word));
  // Outer: new VTEP (patched), VNI, entropy source port, full checksums.
  store16(ip + 10, update32(load16(ip + 10), load32(ip + 16), vtep));
  store32(ip + 16, vtep);
  store32(vx + 4, (load32(vx + 4) & 0xff) | (0x654321u << 8));
  store16(udp, (uint16_t)(0xc000 | ((sport ^ dport) & 0x3fff)));
  store16(ip + 10, 0);
  store16(ip + 10, (uint16_t)~sum(ip, ihl, 0));
  uint64_t ph = (uint64_t)(load32(ip + 12) >> 16) + (load32(ip + 12) & 0xffff) + (vtep >> 16) + (vtep & 0xffff) + 17 + udp_len;
  store16(udp + 6, 0);
  uint16_t c = (uint16_t)~sum(udp, udp_len, fold(ph));
  store16(udp + 6, c == 0 ? 0xffff : c);
  return 1;
}

int wire_peer_process(uint8_t *const *frames, const size_t *lengths, int count, uint32_t new_vtep) {
  int done = 0;
  for (int i = 0; i < count; i++) done += process_one(frames[i], lengths[i], new_vtep);
  return done;
}
