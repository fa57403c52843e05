#include "cproviderpki.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail(char *error, size_t capacity, const char *what) {
  unsigned long code = ERR_get_error();
  char reason[200] = "";
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  snprintf(error, capacity, "%s%s%s", what, code ? ": " : "", reason);
  ERR_clear_error();
  return -1;
}

static int add_extension(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (extension == NULL) return 0;
  int ok = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  return ok;
}

static EVP_PKEY *read_key(const char *path) {
  FILE *file = fopen(path, "r");
  if (file == NULL) return NULL;
  EVP_PKEY *key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
  fclose(file);
  return key;
}

static X509 *read_cert(const char *path) {
  FILE *file = fopen(path, "r");
  if (file == NULL) return NULL;
  X509 *cert = PEM_read_X509(file, NULL, NULL, NULL);
  fclose(file);
  return cert;
}

int pki_issue(int kind, const char *common_name, const char *dns_name, long not_before_seconds,
              long not_after_seconds, const char *issuer_cert_path, const char *issuer_key_path,
              const char *key_path, const char *cert_path, char *error, size_t error_capacity) {
  int status = -1;
  EVP_PKEY *key = NULL, *issuer_key = NULL;
  X509 *cert = NULL, *issuer = NULL;
  BIGNUM *serial = NULL;
  FILE *out = NULL;
  ERR_clear_error();

  if (issuer_cert_path != NULL) {
    issuer = read_cert(issuer_cert_path);
    issuer_key = read_key(issuer_key_path);
    if (issuer == NULL || issuer_key == NULL) {
      fail(error, error_capacity, "cannot read the CA's certificate or key (run `dpuctl pki init` first)");
      goto done;
    }
  }
  key = EVP_EC_gen("P-256");
  cert = X509_new();
  serial = BN_new();
  if (key == NULL || cert == NULL || serial == NULL) {
    fail(error, error_capacity, "cannot make a key");
    goto done;
  }
  /* RFC 5280 §4.1.2.2: positive, at most 20 octets, unique per CA. */
  if (!BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert))) {
    fail(error, error_capacity, "cannot make a serial number");
    goto done;
  }
  X509_set_version(cert, X509_VERSION_3);
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before_seconds);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after_seconds);
  X509_NAME *subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, (const unsigned char *)"Bulkhead", -1, -1, 0);
  if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1,
                                  0)) {
    fail(error, error_capacity, "the common name is not acceptable");
    goto done;
  }
  X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : subject);
  X509_set_pubkey(cert, key);
  X509 *signer = issuer != NULL ? issuer : cert;
  int ok = add_extension(cert, signer, NID_subject_key_identifier, "hash") &&
           add_extension(cert, signer, NID_authority_key_identifier, "keyid:always");
  if (kind == PKI_KIND_AUTHORITY) {
    ok = ok && add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
         add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && add_extension(cert, signer, NID_basic_constraints, "critical,CA:FALSE") &&
         add_extension(cert, signer, NID_key_usage, "critical,digitalSignature") &&
         add_extension(cert, signer, NID_ext_key_usage, kind == PKI_KIND_SERVER ? "serverAuth" : "clientAuth");
  }
  if (ok && dns_name != NULL) {
    char alt[300];
    snprintf(alt, sizeof alt, "DNS:%s", dns_name);
    ok = add_extension(cert, signer, NID_subject_alt_name, alt);
  }
  if (!ok) {
    fail(error, error_capacity, "cannot add the certificate's extensions");
    goto done;
  }
  if (!X509_sign(cert, issuer_key != NULL ? issuer_key : key, EVP_sha256())) {
    fail(error, error_capacity, "cannot sign the certificate");
    goto done;
  }
  /* The key: readable by its owner only. */
  int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
    if (fd >= 0) close(fd);
    snprintf(error, error_capacity, "cannot write %s", key_path);
    goto done;
  }
  if (!PEM_write_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL)) {
    fail(error, error_capacity, "cannot write the key");
    goto done;
  }
  fclose(out);
  out = fopen(cert_path, "w");
  if (out == NULL || !PEM_write_X509(out, cert)) {
    snprintf(error, error_capacity, "cannot write %s", cert_path);
    goto done;
  }
  status = 0;
done:
  if (out != NULL) fclose(out);
  BN_free(serial);
  X509_free(cert);
  X509_free(issuer);
  EVP_PKEY_free(key);
  EVP_PKEY_free(issuer_key);
  return status;
}
