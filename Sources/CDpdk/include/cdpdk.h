// A thin C shim over DPDK's EAL, ethdev and mbufs for the DPDK port.
// rte_mbuf and rte_mempool do not import into Swift, and the burst calls
// and rte_pktmbuf_mtod are static inline functions and macros: this header
// exposes only integers and opaque pointers, and includes no DPDK header.
#ifndef CDPDK_H
#define CDPDK_H
#include <stdint.h>

/// rte_eal_init over argv[0..argc); returns the number of arguments
/// parsed, or a negative errno.
int cdpdk_init(int argc, char **argv);
/// rte_eal_cleanup.
int cdpdk_cleanup(void);
/// The port id of the ethdev named `name` (a vdev such as "net_tap0"), or
/// a negative errno.
int cdpdk_port_by_name(const char *name);
/// rte_pktmbuf_pool_create with the default data room; NULL on failure.
void *cdpdk_pool_create(const char *name, unsigned count);
void cdpdk_pool_free(void *pool);
/// Configures one RX and one TX queue of `ring_size` descriptors, starts
/// the port and puts it in promiscuous mode; 0 or a negative errno.
int cdpdk_port_start(uint16_t port, void *pool, uint16_t ring_size);
int cdpdk_port_stop(uint16_t port);
/// Frames the device dropped before an RX burst took them (rte_eth_stats:
/// imissed + rx_nombuf); 0 where the PMD cannot say.
uint64_t cdpdk_port_missed(uint16_t port);
/// rte_eth_rx_burst / rte_eth_tx_burst on queue 0.
uint16_t cdpdk_rx_burst(uint16_t port, void **mbufs, uint16_t count);
uint16_t cdpdk_tx_burst(uint16_t port, void **mbufs, uint16_t count);
/// An mbuf from `pool` with `length` bytes of data room appended, or NULL.
void *cdpdk_mbuf_alloc(void *pool, uint16_t length);
/// The first byte of the frame (rte_pktmbuf_mtod) and its length in the
/// first segment; a chained mbuf reports its total in `cdpdk_mbuf_packet_length`.
void *cdpdk_mbuf_data(void *mbuf);
uint16_t cdpdk_mbuf_data_length(void *mbuf);
uint32_t cdpdk_mbuf_packet_length(void *mbuf);
void cdpdk_mbuf_free(void *mbuf);

#endif
