// Host-only C shim for the firmware image tool: Ed25519 signatures and
// SHA-256 through OpenSSL's EVP (libcrypto), and ELF facts through libelf.
// Every function takes plain buffers and returns 0 on success, so that the
// Swift side decides policy and error messages.
#ifndef CFIRMWAREIMAGE_H
#define CFIRMWAREIMAGE_H

#include <stddef.h>
#include <stdint.h>

enum { BH_ED25519_KEY_BYTES = 32, BH_ED25519_SIGNATURE_BYTES = 64, BH_SHA256_BYTES = 32 };

/// A new key pair: 32-byte raw private key (seed) and raw public key.
int bh_ed25519_generate(uint8_t private_key[32], uint8_t public_key[32]);
/// The public key of a raw private key.
int bh_ed25519_public_key(const uint8_t private_key[32], uint8_t public_key[32]);
/// RFC 8032 §5.1.6 (pure Ed25519, no prehash).
int bh_ed25519_sign(const uint8_t private_key[32], const uint8_t *message, size_t length,
                    uint8_t signature[64]);
/// 0 when `signature` is valid for `message` under `public_key`, 1 when not,
/// negative when OpenSSL failed.
int bh_ed25519_verify(const uint8_t public_key[32], const uint8_t *message, size_t length,
                      const uint8_t signature[64]);

int bh_sha256(const uint8_t *data, size_t length, uint8_t digest[32]);

enum { BH_ELF_MAX_BUILD_ID = 64 };

/// What the image tool needs to know about an ELF file (ELF64 only).
struct bh_elf_facts {
  int is_elf64;
  uint16_t type;             // e_type (ET_EXEC = 2, ET_DYN = 3)
  uint16_t machine;          // e_machine (EM_AARCH64 = 183, EM_X86_64 = 62)
  uint64_t entry;
  uint32_t load_segments;
  int has_interpreter;       // a PT_INTERP program header
  int has_dynamic;           // a PT_DYNAMIC program header
  uint32_t needed_count;     // DT_NEEDED entries
  int entry_in_executable_load;  // entry lies in a PT_LOAD with PF_X
  int has_writable_executable;   // a segment with both PF_W and PF_X
  uint32_t build_id_length;  // 0: no NT_GNU_BUILD_ID note
  uint8_t build_id[BH_ELF_MAX_BUILD_ID];
};

/// Reads `facts` from an in-memory ELF file. Returns 0, or -1 when libelf
/// cannot parse the buffer as ELF (the message is libelf's).
int bh_elf_read_facts(const uint8_t *data, size_t length, struct bh_elf_facts *facts,
                      const char **message);

#endif
