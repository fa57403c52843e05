/*
 * AES-GCM over EVP, keyed once per context; per packet only the IV changes
 * (EVP_CipherInit_ex with NULL cipher and key), so nothing is allocated on
 * the per-packet path.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ccardcrypto.h"

/* GCM's IV buffer in OpenSSL's provider is 128 bytes (GCM_IV_MAX_SIZE). */
#define CCC_GCM_NONCE_MAX 128
#define CCC_GCM_TAG_MIN 4
#define CCC_GCM_TAG_MAX 16
#define CCC_GCM_DEFAULT_NONCE 12

struct ccc_gcm {
  EVP_CIPHER_CTX *evp;
  /* The IV length the EVP context is set to: changed only when a caller
   * passes a different nonce length (never on the ESP/TLS path). */
  size_t nonce_len;
};

int ccc_gcm_create(ccc_gcm **out, const uint8_t *key, size_t key_len) {
  if (out == NULL) return CCC_ERR_ARGUMENT;
  *out = NULL;
  const EVP_CIPHER *cipher = NULL;
  if (key_len == 16) cipher = EVP_aes_128_gcm();
  if (key_len == 32) cipher = EVP_aes_256_gcm();
  if (cipher == NULL || key == NULL) return CCC_ERR_ARGUMENT;

  ccc_gcm *ctx = OPENSSL_zalloc(sizeof(*ctx));
  if (ctx == NULL) return CCC_ERR_MEMORY;
  ctx->evp = EVP_CIPHER_CTX_new();
  if (ctx->evp == NULL) {
    OPENSSL_free(ctx);
    return CCC_ERR_MEMORY;
  }
  /* GCM uses only the forward cipher (SP 800-38D §6.4), so one key
   * schedule serves both sealing and opening. */
  if (EVP_EncryptInit_ex(ctx->evp, cipher, NULL, key, NULL) != 1) {
    ERR_clear_error();
    ccc_gcm_free(ctx);
    return CCC_ERR_BACKEND;
  }
  ctx->nonce_len = CCC_GCM_DEFAULT_NONCE;
  *out = ctx;
  return CCC_OK;
}

void ccc_gcm_free(ccc_gcm *ctx) {
  if (ctx == NULL) return;
  EVP_CIPHER_CTX_free(ctx->evp); /* cleanses the key schedule */
  OPENSSL_free(ctx);
}

static int valid_sizes(size_t nonce_len, size_t aad_len, size_t len, size_t tag_len) {
  return nonce_len >= 1 && nonce_len <= CCC_GCM_NONCE_MAX && tag_len >= CCC_GCM_TAG_MIN &&
         tag_len <= CCC_GCM_TAG_MAX && aad_len <= INT_MAX && len <= INT_MAX;
}

/* Per packet: sets the nonce and direction without touching the key. */
static int start(ccc_gcm *ctx, const uint8_t *nonce, size_t nonce_len, int encrypt) {
  if (nonce_len != ctx->nonce_len) {
    if (EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_SET_IVLEN, (int)nonce_len, NULL) != 1)
      return CCC_ERR_BACKEND;
    ctx->nonce_len = nonce_len;
  }
  if (EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, nonce, encrypt) != 1) return CCC_ERR_BACKEND;
  return CCC_OK;
}

/* Per packet: AAD, then the text in place. */
static int run(ccc_gcm *ctx, const uint8_t *aad, size_t aad_len, uint8_t *text, size_t len) {
  int n = 0;
  if (aad_len > 0 && EVP_CipherUpdate(ctx->evp, NULL, &n, aad, (int)aad_len) != 1)
    return CCC_ERR_BACKEND;
  if (len > 0 && EVP_CipherUpdate(ctx->evp, text, &n, text, (int)len) != 1)
    return CCC_ERR_BACKEND;
  return CCC_OK;
}

int ccc_gcm_seal(ccc_gcm *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                 size_t aad_len, uint8_t *text, size_t len, uint8_t *tag, size_t tag_len) {
  if (ctx == NULL || nonce == NULL || tag == NULL || !valid_sizes(nonce_len, aad_len, len, tag_len) ||
      (aad == NULL && aad_len > 0) || (text == NULL && len > 0))
    return CCC_ERR_ARGUMENT;
  int status = start(ctx, nonce, nonce_len, 1);
  if (status == CCC_OK) status = run(ctx, aad, aad_len, text, len);
  if (status == CCC_OK) {
    uint8_t none[CCC_GCM_TAG_MAX]; /* GCM's final step writes no text */
    int n = 0;
    if (EVP_CipherFinal_ex(ctx->evp, none, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_GET_TAG, (int)tag_len, tag) != 1)
      status = CCC_ERR_BACKEND;
  }
  if (status != CCC_OK) ERR_clear_error();
  return status;
}

int ccc_gcm_open(ccc_gcm *ctx, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                 size_t aad_len, uint8_t *text, size_t len, const uint8_t *tag, size_t tag_len) {
  if (ctx == NULL || nonce == NULL || tag == NULL || !valid_sizes(nonce_len, aad_len, len, tag_len) ||
      (aad == NULL && aad_len > 0) || (text == NULL && len > 0))
    return CCC_ERR_ARGUMENT;
  int status = start(ctx, nonce, nonce_len, 0);
  /* EVP's control interface takes a non-const pointer; it only reads. */
  if (status == CCC_OK &&
      EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_SET_TAG, (int)tag_len, (void *)tag) != 1)
    status = CCC_ERR_BACKEND;
  if (status == CCC_OK) status = run(ctx, aad, aad_len, text, len);
  if (status == CCC_OK) {
    uint8_t none[CCC_GCM_TAG_MAX];
    int n = 0;
    if (EVP_CipherFinal_ex(ctx->evp, none, &n) != 1) status = CCC_ERR_AUTHENTICATION;
  }
  if (status != CCC_OK) {
    /* SP 800-38D §7.2: on a tag mismatch no plaintext is released. The
     * text was decrypted in place before the check, so wipe it. */
    if (len > 0) OPENSSL_cleanse(text, len);
    ERR_clear_error();
  }
  return status;
}
