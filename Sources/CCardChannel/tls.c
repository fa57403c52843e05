/* Mutual TLS 1.3 over a non-blocking socket (RFC 8446). Every wait is a
 * poll(2) with a deadline, so no call can hang on a silent peer. */
#include "ccardchannel.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cch_tls_context {
  SSL_CTX *ctx;
  int role;
};

struct cch_tls_session {
  SSL *ssl;
  int fd;
};

static void copy_error(char *error, size_t capacity, const char *prefix) {
  if (error == NULL || capacity == 0) return;
  unsigned long code = ERR_peek_last_error();
  char reason[256] = "";
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  snprintf(error, capacity, "%s%s%s", prefix, code != 0 ? ": " : "", reason);
  ERR_clear_error();
}

cch_tls_context *cch_tls_context_new(int role, const char *ca_path, const char *cert_path,
                                     const char *key_path, char *error, size_t error_capacity) {
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(role == CCH_ROLE_SERVER ? TLS_server_method() : TLS_client_method());
  if (ctx == NULL) {
    copy_error(error, error_capacity, "cannot create a TLS context");
    return NULL;
  }
  /* TLS 1.3 only: the channel has no older peers to accept. */
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
    copy_error(error, error_capacity, "cannot read the CA certificate");
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* Without a certificate of our own (cert_path NULL) the peer must refuse
   * us; only tests of that refusal make such a context. */
  if (cert_path != NULL && SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
    copy_error(error, error_capacity, "cannot read our certificate");
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (cert_path != NULL && (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
                            SSL_CTX_check_private_key(ctx) != 1)) {
    copy_error(error, error_capacity, "cannot use our private key (missing, or not the certificate's)");
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* Mutual: a server refuses a client without a certificate. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  /* The verifier checks the peer's extended key usage: a card certificate
   * (clientAuth) cannot pose as the controller and the other way round. */
  SSL_CTX_set_purpose(ctx, role == CCH_ROLE_SERVER ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
  /* No session tickets: every connection authenticates afresh, and no
   * post-handshake record can surprise a reader. Without AUTO_RETRY a read
   * that consumed only a non-application record returns WANT_READ instead
   * of blocking. */
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  cch_tls_context *context = calloc(1, sizeof *context);
  if (context == NULL) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  context->ctx = ctx;
  context->role = role;
  return context;
}

void cch_tls_context_free(cch_tls_context *context) {
  if (context == NULL) return;
  SSL_CTX_free(context->ctx);
  free(context);
}

cch_tls_session *cch_tls_session_new(cch_tls_context *context, int fd, const char *expected_peer_name) {
  if (context == NULL || fd < 0) return NULL;
  SSL *ssl = SSL_new(context->ctx);
  if (ssl == NULL) return NULL;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return NULL;
  }
  if (context->role == CCH_ROLE_CLIENT) {
    SSL_set_connect_state(ssl);
    if (expected_peer_name != NULL) {
      /* RFC 6125 name check against the controller's subjectAltName. */
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl, expected_peer_name) != 1 ||
          SSL_set_tlsext_host_name(ssl, expected_peer_name) != 1) {
        SSL_free(ssl);
        return NULL;
      }
    }
  } else {
    SSL_set_accept_state(ssl);
  }
  cch_tls_session *session = calloc(1, sizeof *session);
  if (session == NULL) {
    SSL_free(ssl);
    return NULL;
  }
  session->ssl = ssl;
  session->fd = fd;
  return session;
}

void cch_tls_session_free(cch_tls_session *session) {
  if (session == NULL) return;
  /* Best effort close_notify; the socket is non-blocking so this never
   * waits on the peer. */
  SSL_shutdown(session->ssl);
  SSL_free(session->ssl);
  close(session->fd);
  free(session);
}

static int wait_for(int fd, short events, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = events};
  for (;;) {
    int n = poll(&p, 1, timeout_ms);
    if (n > 0) return 0;
    if (n == 0) return CCH_TIMED_OUT;
    if (errno != EINTR) return -errno;
  }
}

int cch_tls_handshake(cch_tls_session *session, int timeout_ms, char *error, size_t error_capacity) {
  uint64_t deadline = cch_monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
  ERR_clear_error();
  for (;;) {
    int result = SSL_do_handshake(session->ssl);
    if (result == 1) return 0;
    int reason = SSL_get_error(session->ssl, result);
    short events;
    if (reason == SSL_ERROR_WANT_READ) events = POLLIN;
    else if (reason == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    else {
      cch_tls_last_error(session, error, error_capacity);
      return CCH_TLS_ERROR;
    }
    uint64_t now = cch_monotonic_ns();
    if (now >= deadline) {
      if (error != NULL && error_capacity > 0) snprintf(error, error_capacity, "handshake timed out");
      return CCH_TIMED_OUT;
    }
    int waited = wait_for(session->fd, events, (int)((deadline - now) / 1000000u) + 1);
    if (waited == CCH_TIMED_OUT) continue; /* the deadline check above decides */
    if (waited < 0) return waited;
  }
}

void cch_tls_last_error(cch_tls_session *session, char *error, size_t error_capacity) {
  if (error == NULL || error_capacity == 0) return;
  long verify = SSL_get_verify_result(session->ssl);
  if (verify != X509_V_OK) {
    snprintf(error, error_capacity, "peer certificate refused: %s", X509_verify_cert_error_string(verify));
    ERR_clear_error();
    return;
  }
  copy_error(error, error_capacity, "TLS failure");
}

int cch_tls_peer_common_name(cch_tls_session *session, char *name, size_t capacity) {
  if (SSL_get_verify_result(session->ssl) != X509_V_OK) return CCH_ARGUMENT;
  X509 *peer = SSL_get1_peer_certificate(session->ssl);
  if (peer == NULL) return CCH_ARGUMENT;
  int length = X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name, (int)capacity);
  X509_free(peer);
  /* A name that does not fit, or holds a NUL, is refused rather than cut. */
  if (length < 0 || (size_t)length + 1 > capacity || strlen(name) != (size_t)length) return CCH_ARGUMENT;
  return length;
}

long cch_tls_read(cch_tls_session *session, uint8_t *bytes, size_t capacity) {
  size_t count = 0;
  ERR_clear_error();
  int result = SSL_read_ex(session->ssl, bytes, capacity, &count);
  if (result == 1) return (long)count;
  switch (SSL_get_error(session->ssl, result)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE: return CCH_WOULD_BLOCK;
  case SSL_ERROR_ZERO_RETURN: return CCH_CLOSED;
  case SSL_ERROR_SYSCALL:
    /* EOF without close_notify: the peer went away. */
    return ERR_peek_error() == 0 ? CCH_CLOSED : CCH_TLS_ERROR;
  default: return CCH_TLS_ERROR;
  }
}

int cch_tls_write(cch_tls_session *session, const uint8_t *bytes, size_t length, int timeout_ms) {
  uint64_t deadline = cch_monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
  size_t done = 0;
  ERR_clear_error();
  while (done < length) {
    size_t written = 0;
    int result = SSL_write_ex(session->ssl, bytes + done, length - done, &written);
    if (result == 1) {
      done += written;
      continue;
    }
    int reason = SSL_get_error(session->ssl, result);
    short events;
    if (reason == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    else if (reason == SSL_ERROR_WANT_READ) events = POLLIN;
    else return reason == SSL_ERROR_ZERO_RETURN ? CCH_CLOSED : CCH_TLS_ERROR;
    uint64_t now = cch_monotonic_ns();
    if (now >= deadline) return CCH_TIMED_OUT;
    int waited = wait_for(session->fd, events, (int)((deadline - now) / 1000000u) + 1);
    if (waited < 0 && waited != CCH_TIMED_OUT) return waited;
  }
  return 0;
}

int cch_tls_pending(cch_tls_session *session) { return SSL_pending(session->ssl); }

int cch_tls_fd(cch_tls_session *session) { return session->fd; }
