/*
 * CCardCrypto: the only place Bulkhead talks to OpenSSL.
 *
 * A deliberately small surface over OpenSSL's EVP interface: integers, byte
 * pointers and opaque context pointers, so that the same header imports into
 * ordinary Swift and Embedded Swift. Every function returns a plain status
 * code (CCC_OK or a negative CCC_ERR_*); none aborts, none prints.
 *
 * Contexts are keyed once (ccc_*_create) and then only their IV changes per
 * packet or per data unit: the per-packet functions allocate nothing.
 * A context is not safe for concurrent use; callers keep one per core.
 */
#ifndef CCARDCRYPTO_H
#define CCARDCRYPTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (macros, so that Swift imports them as Int32 like the
 * functions' results). */
#define CCC_OK 0
/* A length or size outside what the algorithm accepts. */
#define CCC_ERR_ARGUMENT -1
/* GCM tag mismatch, or RFC 5649 integrity check failure on unwrap. */
#define CCC_ERR_AUTHENTICATION -2
/* OpenSSL refused an operation it should have accepted. */
#define CCC_ERR_BACKEND -3
/* Allocation failed while creating a context. */
#define CCC_ERR_MEMORY -4
/* AES-XTS key whose two halves are equal (IEEE 1619-2007 §5.1 and
 * SP 800-38E require distinct halves; OpenSSL refuses them). */
#define CCC_ERR_WEAK_KEY -5
/* RAND_bytes could not produce bytes. */
#define CCC_ERR_RANDOM -6

typedef struct ccc_gcm ccc_gcm;
typedef struct ccc_xts ccc_xts;

/* ---- AES-GCM (NIST SP 800-38D): ESP (RFC 4106) and TLS records ---- */

/* Keys a context for AES-128-GCM (key_len 16) or AES-256-GCM (key_len 32).
 * The key is copied into OpenSSL's key schedule; the caller may cleanse its
 * copy afterwards. On success *out holds a context to free with
 * ccc_gcm_free. */
int ccc_gcm_create(ccc_gcm **out, const uint8_t *key, size_t key_len);
/* Frees a context; OpenSSL cleanses the key schedule. NULL is ignored. */
void ccc_gcm_free(ccc_gcm *ctx);

/* Per packet. Encrypts `len` bytes at `text` in place and writes the tag.
 * nonce_len: 1...128 (12 for ESP and TLS); tag_len: 4...16. */
int ccc_gcm_seal(ccc_gcm *ctx, const uint8_t *nonce, size_t nonce_len,
                 const uint8_t *aad, size_t aad_len, uint8_t *text, size_t len,
                 uint8_t *tag, size_t tag_len);
/* Per packet. Decrypts `len` bytes at `text` in place and checks the tag.
 * Returns CCC_ERR_AUTHENTICATION on mismatch; then `text` has been cleansed
 * (zeroed) so that unauthenticated plaintext cannot leak. */
int ccc_gcm_open(ccc_gcm *ctx, const uint8_t *nonce, size_t nonce_len,
                 const uint8_t *aad, size_t aad_len, uint8_t *text, size_t len,
                 const uint8_t *tag, size_t tag_len);

/* ---- AES-XTS-256 (IEEE 1619-2007, NIST SP 800-38E): volumes ---- */

/* Keys a context with a 64-byte key (Key1 || Key2), for one direction:
 * encrypt != 0 to encrypt, 0 to decrypt (XTS's decryption key schedule
 * differs, so a context serves one direction). */
int ccc_xts_create(ccc_xts **out, const uint8_t *key, size_t key_len, int encrypt);
void ccc_xts_free(ccc_xts *ctx);
/* Per data unit. Transforms `len` bytes (>= 16) at `data` in place with
 * the 16-byte tweak, in the context's direction. */
int ccc_xts_run(ccc_xts *ctx, const uint8_t *tweak, uint8_t *data, size_t len);

/* ---- AES key wrap with padding (RFC 5649) ---- */

/* Output size of wrapping `len` bytes: 8 + len rounded up to 8, and 16 for
 * len <= 8 (RFC 5649 §4.1). 0 if len is 0 or too large. */
size_t ccc_key_wrap_size(size_t len);
/* Wraps `len` (1...) bytes with a 16-, 24- or 32-byte KEK. `out` must hold
 * ccc_key_wrap_size(len) bytes; *out_len receives the size written. */
int ccc_key_wrap(const uint8_t *kek, size_t kek_len, const uint8_t *in, size_t len,
                 uint8_t *out, size_t out_cap, size_t *out_len);
/* Unwraps `len` (16..., a multiple of 8) bytes. `out` must hold `len`
 * bytes, 8 more than the key data can be, because OpenSSL may cleanse that
 * many on failure; *out_len receives the key data length. Returns
 * CCC_ERR_AUTHENTICATION when the integrity check fails (RFC 5649 §3);
 * `out` is then cleansed. */
int ccc_key_unwrap(const uint8_t *kek, size_t kek_len, const uint8_t *in, size_t len,
                   uint8_t *out, size_t out_cap, size_t *out_len);

/* ---- Key material ---- */

/* Overwrites `len` bytes with zeros in a way the compiler cannot elide. */
void ccc_cleanse(void *p, size_t len);
/* Fills `len` bytes from OpenSSL's CSPRNG. */
int ccc_random_bytes(uint8_t *out, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* CCARDCRYPTO_H */
