/* Key material: zeroing that survives optimisation, and random keys. */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "ccardcrypto.h"

void ccc_cleanse(void *p, size_t len) {
  if (p != NULL && len > 0) OPENSSL_cleanse(p, len);
}

int ccc_random_bytes(uint8_t *out, size_t len) {
  if (out == NULL || len > INT_MAX) return CCC_ERR_ARGUMENT;
  if (len == 0) return CCC_OK;
  if (RAND_bytes(out, (int)len) != 1) {
    ERR_clear_error();
    return CCC_ERR_RANDOM;
  }
  return CCC_OK;
}
