// See include/cdpdk.h. Compiled with DPDK's flags (pkg-config libdpdk).
#include "cdpdk.h"

#include <errno.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

int cdpdk_init(int argc, char **argv) {
  int parsed = rte_eal_init(argc, argv);
  return parsed < 0 ? -rte_errno : parsed;
}

int cdpdk_cleanup(void) { return rte_eal_cleanup(); }

int cdpdk_port_by_name(const char *name) {
  uint16_t port;
  int rc = rte_eth_dev_get_port_by_name(name, &port);
  return rc < 0 ? rc : (int)port;
}

void *cdpdk_pool_create(const char *name, unsigned count) {
  return rte_pktmbuf_pool_create(name, count, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
}

void cdpdk_pool_free(void *pool) { rte_mempool_free((struct rte_mempool *)pool); }

int cdpdk_port_start(uint16_t port, void *pool, uint16_t ring_size) {
  struct rte_eth_conf conf;
  memset(&conf, 0, sizeof conf);
  int rc = rte_eth_dev_configure(port, 1, 1, &conf);
  if (rc < 0) return rc;
  uint16_t rx = ring_size, tx = ring_size;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx, &tx);
  if (rc < 0) return rc;
  int socket = rte_eth_dev_socket_id(port);
  if (socket < 0) socket = SOCKET_ID_ANY;
  rc = rte_eth_rx_queue_setup(port, 0, rx, (unsigned)socket, NULL, (struct rte_mempool *)pool);
  if (rc < 0) return rc;
  rc = rte_eth_tx_queue_setup(port, 0, tx, (unsigned)socket, NULL);
  if (rc < 0) return rc;
  rc = rte_eth_dev_start(port);
  if (rc < 0) return rc;
  // Best effort: some PMDs have no promiscuous mode.
  (void)rte_eth_promiscuous_enable(port);
  return 0;
}

int cdpdk_port_stop(uint16_t port) {
  int rc = rte_eth_dev_stop(port);
  if (rc < 0) return rc;
  return rte_eth_dev_close(port);
}

uint64_t cdpdk_port_missed(uint16_t port) {
  struct rte_eth_stats stats;
  if (rte_eth_stats_get(port, &stats) != 0) return 0;
  return stats.imissed + stats.rx_nombuf;
}

uint16_t cdpdk_rx_burst(uint16_t port, void **mbufs, uint16_t count) {
  return rte_eth_rx_burst(port, 0, (struct rte_mbuf **)mbufs, count);
}

uint16_t cdpdk_tx_burst(uint16_t port, void **mbufs, uint16_t count) {
  return rte_eth_tx_burst(port, 0, (struct rte_mbuf **)mbufs, count);
}

void *cdpdk_mbuf_alloc(void *pool, uint16_t length) {
  struct rte_mbuf *m = rte_pktmbuf_alloc((struct rte_mempool *)pool);
  if (m == NULL) return NULL;
  if (rte_pktmbuf_append(m, length) == NULL) {
    rte_pktmbuf_free(m);
    return NULL;
  }
  return m;
}

void *cdpdk_mbuf_data(void *mbuf) { return rte_pktmbuf_mtod((struct rte_mbuf *)mbuf, void *); }

uint16_t cdpdk_mbuf_data_length(void *mbuf) { return rte_pktmbuf_data_len((struct rte_mbuf *)mbuf); }

uint32_t cdpdk_mbuf_packet_length(void *mbuf) { return rte_pktmbuf_pkt_len((struct rte_mbuf *)mbuf); }

void cdpdk_mbuf_free(void *mbuf) { rte_pktmbuf_free((struct rte_mbuf *)mbuf); }
