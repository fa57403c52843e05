#include "cproviderpki.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

int pki_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t *out) {
  unsigned int written = 0;
  if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &written) == NULL || written != 32) {
    return -1;
  }
  return 0;
}

int pki_random(uint8_t *out, size_t len) { return RAND_bytes(out, (int)len) == 1 ? 0 : -1; }
