/*
 * CProviderPKI: issues the management channel's certificates (host side
 * only; the card never issues). EC P-256 keys, X.509 v3, SHA-256
 * signatures, written as PEM files; the private key file is mode 0600.
 */
#ifndef CPROVIDERPKI_H
#define CPROVIDERPKI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a certificate is for (RFC 5280 §4.2.1.9 basicConstraints,
 * §4.2.1.12 extendedKeyUsage). */
#define PKI_KIND_AUTHORITY 0
#define PKI_KIND_SERVER 1 /* the controller: serverAuth */
#define PKI_KIND_CLIENT 2 /* a card: clientAuth */

/* Makes a key and a certificate for `common_name` (and `dns_name` as its
 * subjectAltName when not NULL), valid from now + `not_before_seconds` to
 * now + `not_after_seconds`. Signed by the authority in
 * `issuer_cert_path`/`issuer_key_path`, or self-signed when those are NULL.
 * Returns 0, or -1 with a reason in `error`. */
int pki_issue(int kind, const char *common_name, const char *dns_name, long not_before_seconds,
              long not_after_seconds, const char *issuer_cert_path, const char *issuer_key_path,
              const char *key_path, const char *cert_path, char *error, size_t error_capacity);

/* HMAC-SHA-256 (RFC 2104) of `data` under `key` into `out` (32 bytes): how
 * the provider's key seed becomes each card's key-encryption key. 0 or -1. */
int pki_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t *out);
/* `len` bytes from OpenSSL's CSPRNG. 0 or -1. */
int pki_random(uint8_t *out, size_t len);
#ifdef __cplusplus
}
#endif
#endif
