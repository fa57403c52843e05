#ifndef CCARDCRYPTO_H
#define CCARDCRYPTO_H
long ccc_version(void);
#endif
