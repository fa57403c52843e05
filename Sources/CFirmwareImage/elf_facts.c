#include "CFirmwareImage.h"

#include <gelf.h>
#include <string.h>

// The GNU build-id note: name "GNU", type NT_GNU_BUILD_ID (ELF gABI notes,
// binutils' --build-id).
static void read_build_id(Elf *elf, struct bh_elf_facts *facts, size_t count) {
  for (size_t i = 0; i < count && facts->build_id_length == 0; i++) {
    GElf_Phdr header;
    if (!gelf_getphdr(elf, (int)i, &header) || header.p_type != PT_NOTE) continue;
    Elf_Data *data = elf_getdata_rawchunk(elf, (int64_t)header.p_offset, header.p_filesz, ELF_T_NHDR);
    if (!data) continue;
    size_t offset = 0, name_offset, descriptor_offset;
    GElf_Nhdr note;
    while ((offset = gelf_getnote(data, offset, &note, &name_offset, &descriptor_offset)) > 0) {
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          memcmp((const char *)data->d_buf + name_offset, "GNU", 4) == 0 &&
          note.n_descsz > 0 && note.n_descsz <= BH_ELF_MAX_BUILD_ID) {
        memcpy(facts->build_id, (const char *)data->d_buf + descriptor_offset, note.n_descsz);
        facts->build_id_length = note.n_descsz;
        break;
      }
    }
  }
}

static void count_needed(Elf *elf, struct bh_elf_facts *facts) {
  Elf_Scn *section = NULL;
  while ((section = elf_nextscn(elf, section)) != NULL) {
    GElf_Shdr header;
    if (!gelf_getshdr(section, &header) || header.sh_type != SHT_DYNAMIC) continue;
    Elf_Data *data = elf_getdata(section, NULL);
    if (!data || header.sh_entsize == 0) continue;
    for (size_t i = 0; i < header.sh_size / header.sh_entsize; i++) {
      GElf_Dyn entry;
      if (gelf_getdyn(data, (int)i, &entry) && entry.d_tag == DT_NEEDED) facts->needed_count++;
    }
  }
}

int bh_elf_read_facts(const uint8_t *data, size_t length, struct bh_elf_facts *facts,
                      const char **message) {
  memset(facts, 0, sizeof *facts);
  *message = NULL;
  if (elf_version(EV_CURRENT) == EV_NONE) { *message = elf_errmsg(-1); return -1; }
  // elf_memory does not write through the pointer when the ELF is opened
  // for reading (ELF_C_READ_MMAP semantics); the cast only drops const.
  Elf *elf = elf_memory((char *)data, length);
  if (!elf || elf_kind(elf) != ELF_K_ELF) {
    *message = elf ? "not an ELF file" : elf_errmsg(-1);
    if (elf) elf_end(elf);
    return -1;
  }
  GElf_Ehdr header;
  if (!gelf_getehdr(elf, &header)) { *message = elf_errmsg(-1); elf_end(elf); return -1; }
  facts->is_elf64 = gelf_getclass(elf) == ELFCLASS64;
  facts->type = header.e_type;
  facts->machine = header.e_machine;
  facts->entry = header.e_entry;
  size_t count = 0;
  if (elf_getphdrnum(elf, &count) != 0) { *message = elf_errmsg(-1); elf_end(elf); return -1; }
  for (size_t i = 0; i < count; i++) {
    GElf_Phdr segment;
    if (!gelf_getphdr(elf, (int)i, &segment)) continue;
    if (segment.p_type == PT_INTERP) facts->has_interpreter = 1;
    if (segment.p_type == PT_DYNAMIC) facts->has_dynamic = 1;
    if ((segment.p_flags & PF_W) && (segment.p_flags & PF_X)) facts->has_writable_executable = 1;
    if (segment.p_type != PT_LOAD) continue;
    facts->load_segments++;
    if ((segment.p_flags & PF_X) && header.e_entry >= segment.p_vaddr &&
        header.e_entry - segment.p_vaddr < segment.p_memsz)
      facts->entry_in_executable_load = 1;
  }
  read_build_id(elf, facts, count);
  count_needed(elf, facts);
  elf_end(elf);
  return 0;
}
