/*
 * CCardChannel: the management channel's system side, shared by the card
 * agent (Embedded Swift on the card) and the controller (host).
 *
 *   - mutual TLS 1.3 over a TCP socket, through OpenSSL's SSL_* interface;
 *   - the sockets, a waker (eventfd) and a wait over both, a monotonic clock;
 *   - the card's state file, written atomically.
 *
 * Only integers, byte pointers and opaque pointers cross this header, so it
 * imports the same way into ordinary and Embedded Swift. Functions return
 * a count or 0 on success and a negative CCH_* status or -errno on failure;
 * none aborts, none prints.
 */
#ifndef CCARDCHANNEL_H
#define CCARDCHANNEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Statuses beyond -errno (errno values stay below 4096). */
#define CCH_WOULD_BLOCK (-5001)
#define CCH_CLOSED (-5002)
#define CCH_TLS_ERROR (-5003)
#define CCH_TIMED_OUT (-5004)
#define CCH_ARGUMENT (-5005)

/* Which side of the handshake a context is for. */
#define CCH_ROLE_SERVER 0
#define CCH_ROLE_CLIENT 1

/* Bits returned by cch_wait. */
#define CCH_READY_SOCKET 1
#define CCH_READY_WAKER 2

/* An SSL_CTX configured for TLS 1.3 only with mutual authentication: the
 * peer must present a certificate that chains to `ca_path`; ours is
 * `cert_path`/`key_path` (PEM; both NULL: none, which a peer refuses). NULL on failure, with a reason in `error`. */
typedef struct cch_tls_context cch_tls_context;
cch_tls_context *cch_tls_context_new(int role, const char *ca_path, const char *cert_path,
                                     const char *key_path, char *error, size_t error_capacity);
void cch_tls_context_free(cch_tls_context *context);

/* One TLS connection over a connected socket, which it owns (closed by
 * cch_tls_session_free). A client names the peer it expects: the handshake
 * fails unless the peer's certificate carries that DNS name. */
typedef struct cch_tls_session cch_tls_session;
cch_tls_session *cch_tls_session_new(cch_tls_context *context, int fd, const char *expected_peer_name);
void cch_tls_session_free(cch_tls_session *session);
/* Runs the handshake to completion or until `timeout_ms`. */
int cch_tls_handshake(cch_tls_session *session, int timeout_ms, char *error, size_t error_capacity);
/* The verified peer certificate's subject common name, NUL-terminated;
 * returns its length or CCH_ARGUMENT. */
int cch_tls_peer_common_name(cch_tls_session *session, char *name, size_t capacity);
/* Up to `capacity` decrypted bytes: a count > 0, CCH_WOULD_BLOCK when none
 * are ready, CCH_CLOSED at the peer's close, CCH_TLS_ERROR otherwise. */
long cch_tls_read(cch_tls_session *session, uint8_t *bytes, size_t capacity);
/* Writes all of `bytes`, waiting for the socket up to `timeout_ms`. */
int cch_tls_write(cch_tls_session *session, const uint8_t *bytes, size_t length, int timeout_ms);
/* Decrypted bytes OpenSSL holds that a wait on the socket would not see. */
int cch_tls_pending(cch_tls_session *session);
int cch_tls_fd(cch_tls_session *session);
/* The last error's text (OpenSSL's queue or the verification result). */
void cch_tls_last_error(cch_tls_session *session, char *error, size_t error_capacity);

/* TCP on IPv4/IPv6 literals: a listening socket (port 0 picks one, written
 * to `bound_port`); a connected socket within `timeout_ms`. Both return a
 * descriptor or -errno. Sockets are close-on-exec and non-blocking. */
int cch_tcp_listen(const char *host, uint16_t port, int backlog, uint16_t *bound_port);
int cch_tcp_accept(int listen_fd);
int cch_tcp_connect(const char *host, uint16_t port, int timeout_ms);
void cch_close(int fd);
/* Stops a blocked wait on `fd` in another thread (shutdown(2) both ways). */
void cch_shutdown(int fd);

/* A waker another thread can signal to end a cch_wait early (eventfd). */
int cch_waker_new(void);
void cch_waker_signal(int waker);
void cch_waker_drain(int waker);
/* Waits until `fd` is readable (or closed) or the waker is signalled, at
 * most `timeout_ms` (-1: forever). Either descriptor may be -1. Returns the
 * CCH_READY_* bits, 0 on timeout, or -errno. */
int cch_wait(int fd, int waker, int timeout_ms);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t cch_monotonic_ns(void);
void cch_sleep_ms(uint32_t milliseconds);

/* Replaces `path` with `bytes` so that a crash leaves either the old or the
 * new content: write `temp_path`, fsync it, rename over `path`, fsync the
 * folder. Returns 0 or -errno. */
int cch_file_replace(const char *path, const char *temp_path, const uint8_t *bytes, size_t length);
/* The file's size, or -errno (-ENOENT when there is none). */
long cch_file_size(const char *path);
/* Reads up to `capacity` bytes; returns the count or -errno. */
long cch_file_read(const char *path, uint8_t *bytes, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
