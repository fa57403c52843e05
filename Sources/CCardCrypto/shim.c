#include <openssl/crypto.h>
#include "ccardcrypto.h"
long ccc_version(void) { return (long)OpenSSL_version_num(); }
