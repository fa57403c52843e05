/*
 * AES key wrap with padding (RFC 5649, NIST SP 800-38F KWP). Not on any
 * per-packet path: a context is made and freed per call.
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ccardcrypto.h"

#define CCC_WRAP_SEMIBLOCK 8

static const EVP_CIPHER *wrap_cipher(size_t kek_len) {
  switch (kek_len) {
  case 16: return EVP_aes_128_wrap_pad();
  case 24: return EVP_aes_192_wrap_pad();
  case 32: return EVP_aes_256_wrap_pad();
  default: return NULL;
  }
}

size_t ccc_key_wrap_size(size_t len) {
  if (len == 0 || len > INT_MAX - 2 * CCC_WRAP_SEMIBLOCK) return 0;
  /* RFC 5649 §4.1: pad to a multiple of 8, prepend the 8-byte AIV. */
  size_t padded = (len + CCC_WRAP_SEMIBLOCK - 1) / CCC_WRAP_SEMIBLOCK * CCC_WRAP_SEMIBLOCK;
  return padded + CCC_WRAP_SEMIBLOCK;
}

/* One EVP pass of the whole input, as the wrap modes require. */
static int wrap_pass(const EVP_CIPHER *cipher, int encrypt, const uint8_t *kek, const uint8_t *in,
                     size_t len, uint8_t *out, size_t *out_len) {
  EVP_CIPHER_CTX *evp = EVP_CIPHER_CTX_new();
  if (evp == NULL) return CCC_ERR_MEMORY;
  /* OpenSSL refuses the wrap modes through EVP unless asked explicitly. */
  EVP_CIPHER_CTX_set_flags(evp, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  int status = CCC_OK;
  int n = 0, tail = 0;
  if (EVP_CipherInit_ex(evp, cipher, NULL, kek, NULL, encrypt) != 1) {
    status = CCC_ERR_BACKEND;
  } else if (EVP_CipherUpdate(evp, out, &n, in, (int)len) != 1 || n < 0) {
    /* Unwrapping fails here when the AIV or padding check fails. */
    status = encrypt ? CCC_ERR_BACKEND : CCC_ERR_AUTHENTICATION;
  } else if (EVP_CipherFinal_ex(evp, out + n, &tail) != 1) {
    status = encrypt ? CCC_ERR_BACKEND : CCC_ERR_AUTHENTICATION;
  }
  EVP_CIPHER_CTX_free(evp);
  if (status != CCC_OK) {
    ERR_clear_error();
    return status;
  }
  *out_len = (size_t)n + (size_t)tail;
  return CCC_OK;
}

int ccc_key_wrap(const uint8_t *kek, size_t kek_len, const uint8_t *in, size_t len, uint8_t *out,
                 size_t out_cap, size_t *out_len) {
  const EVP_CIPHER *cipher = wrap_cipher(kek_len);
  size_t need = ccc_key_wrap_size(len);
  if (cipher == NULL || kek == NULL || in == NULL || out == NULL || out_len == NULL || need == 0 ||
      out_cap < need)
    return CCC_ERR_ARGUMENT;
  int status = wrap_pass(cipher, 1, kek, in, len, out, out_len);
  if (status == CCC_OK && *out_len != need) status = CCC_ERR_BACKEND;
  return status;
}

int ccc_key_unwrap(const uint8_t *kek, size_t kek_len, const uint8_t *in, size_t len, uint8_t *out,
                   size_t out_cap, size_t *out_len) {
  const EVP_CIPHER *cipher = wrap_cipher(kek_len);
  /* RFC 5649 §4.2: at least two semiblocks, whole semiblocks only. */
  if (cipher == NULL || kek == NULL || in == NULL || out == NULL || out_len == NULL ||
      len < 2 * CCC_WRAP_SEMIBLOCK || len % CCC_WRAP_SEMIBLOCK != 0 || len > INT_MAX ||
      out_cap < len)
    return CCC_ERR_ARGUMENT;
  int status = wrap_pass(cipher, 0, kek, in, len, out, out_len);
  if (status == CCC_OK && *out_len > len - CCC_WRAP_SEMIBLOCK) status = CCC_ERR_BACKEND;
  if (status != CCC_OK) OPENSSL_cleanse(out, out_cap);
  return status;
}
