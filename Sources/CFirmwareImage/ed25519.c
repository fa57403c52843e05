#include "CFirmwareImage.h"

#include <openssl/evp.h>

int bh_ed25519_generate(uint8_t private_key[32], uint8_t public_key[32]) {
  EVP_PKEY *key = NULL;
  EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
  int status = -1;
  if (context && EVP_PKEY_keygen_init(context) == 1 && EVP_PKEY_keygen(context, &key) == 1) {
    size_t private_length = 32, public_length = 32;
    if (EVP_PKEY_get_raw_private_key(key, private_key, &private_length) == 1 &&
        EVP_PKEY_get_raw_public_key(key, public_key, &public_length) == 1 &&
        private_length == 32 && public_length == 32)
      status = 0;
  }
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(context);
  return status;
}

int bh_ed25519_public_key(const uint8_t private_key[32], uint8_t public_key[32]) {
  EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, 32);
  size_t length = 32;
  int status = key && EVP_PKEY_get_raw_public_key(key, public_key, &length) == 1 && length == 32 ? 0 : -1;
  EVP_PKEY_free(key);
  return status;
}

int bh_ed25519_sign(const uint8_t private_key[32], const uint8_t *message, size_t length,
                    uint8_t signature[64]) {
  EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, 32);
  EVP_MD_CTX *context = EVP_MD_CTX_new();
  size_t signature_length = 64;
  int status = -1;
  // Ed25519 is one-shot: EVP_DigestSign with no digest (RFC 8032 PureEdDSA).
  if (key && context && EVP_DigestSignInit(context, NULL, NULL, NULL, key) == 1 &&
      EVP_DigestSign(context, signature, &signature_length, message, length) == 1 &&
      signature_length == 64)
    status = 0;
  EVP_MD_CTX_free(context);
  EVP_PKEY_free(key);
  return status;
}

int bh_ed25519_verify(const uint8_t public_key[32], const uint8_t *message, size_t length,
                      const uint8_t signature[64]) {
  EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, 32);
  EVP_MD_CTX *context = EVP_MD_CTX_new();
  int status = -1;
  if (key && context && EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1) {
    int result = EVP_DigestVerify(context, signature, 64, message, length);
    status = result == 1 ? 0 : (result == 0 ? 1 : -1);
  }
  EVP_MD_CTX_free(context);
  EVP_PKEY_free(key);
  return status;
}

int bh_sha256(const uint8_t *data, size_t length, uint8_t digest[32]) {
  unsigned int digest_length = 32;
  return EVP_Digest(data, length, digest, &digest_length, EVP_sha256(), NULL) == 1 ? 0 : -1;
}
