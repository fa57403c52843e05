/*
 * AES-XTS-256 over EVP, one context per direction (XTS decryption needs the
 * inverse key schedule for Key1), keyed once; per data unit only the tweak
 * changes.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ccardcrypto.h"

#define CCC_XTS_KEY_LEN 64
#define CCC_XTS_BLOCK 16
/* IEEE 1619-2007 §5.1: at most 2^20 blocks per data unit (OpenSSL checks
 * the same bound). */
#define CCC_XTS_MAX_UNIT ((size_t)1 << 24)

struct ccc_xts {
  EVP_CIPHER_CTX *evp;
};

int ccc_xts_create(ccc_xts **out, const uint8_t *key, size_t key_len, int encrypt) {
  if (out == NULL) return CCC_ERR_ARGUMENT;
  *out = NULL;
  if (key == NULL || key_len != CCC_XTS_KEY_LEN) return CCC_ERR_ARGUMENT;
  /* SP 800-38E and IEEE 1619-2007 §5.1: Key1 and Key2 must differ. Checked
   * here so the caller gets a reason rather than a generic refusal. */
  if (CRYPTO_memcmp(key, key + CCC_XTS_KEY_LEN / 2, CCC_XTS_KEY_LEN / 2) == 0)
    return CCC_ERR_WEAK_KEY;

  ccc_xts *ctx = OPENSSL_zalloc(sizeof(*ctx));
  if (ctx == NULL) return CCC_ERR_MEMORY;
  ctx->evp = EVP_CIPHER_CTX_new();
  if (ctx->evp == NULL) {
    OPENSSL_free(ctx);
    return CCC_ERR_MEMORY;
  }
  if (EVP_CipherInit_ex(ctx->evp, EVP_aes_256_xts(), NULL, key, NULL, encrypt ? 1 : 0) != 1) {
    ERR_clear_error();
    ccc_xts_free(ctx);
    return CCC_ERR_BACKEND;
  }
  *out = ctx;
  return CCC_OK;
}

void ccc_xts_free(ccc_xts *ctx) {
  if (ctx == NULL) return;
  EVP_CIPHER_CTX_free(ctx->evp); /* cleanses the key schedules */
  OPENSSL_free(ctx);
}

int ccc_xts_run(ccc_xts *ctx, const uint8_t *tweak, uint8_t *data, size_t len) {
  if (ctx == NULL || tweak == NULL || data == NULL || len < CCC_XTS_BLOCK || len > CCC_XTS_MAX_UNIT)
    return CCC_ERR_ARGUMENT;
  int n = 0;
  /* enc = -1 keeps the direction the context was keyed for. */
  if (EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, tweak, -1) != 1 ||
      EVP_CipherUpdate(ctx->evp, data, &n, data, (int)len) != 1 || (size_t)n != len) {
    ERR_clear_error();
    return CCC_ERR_BACKEND;
  }
  return CCC_OK;
}
