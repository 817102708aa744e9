#include "build/elf_check.h"

#include <elf.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace ignite::build {
namespace {

template <typename T>
bool ReadAt(const std::string& data, uint64_t offset, T* out) {
  if (offset > data.size() || data.size() - offset < sizeof(T)) return false;
  std::memcpy(out, data.data() + offset, sizeof(T));
  return true;
}

}  // namespace

Result<ElfFacts> ReadElfFacts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) return NotFound(fmt::format("{} does not exist", path));
    return Internal(fmt::format("cannot read {}: {}", path, std::strerror(err)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = std::move(ss).str();

  auto bad = [&](std::string_view why) { return InvalidArgument(fmt::format("{} is not a valid ELF file: {}", path, why)); };
  ElfFacts facts;
  if (data.size() < EI_NIDENT || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0) return bad("no ELF magic");
  facts.elf64 = data[EI_CLASS] == ELFCLASS64 && data[EI_DATA] == ELFDATA2LSB;
  if (!facts.elf64) return facts;  // the rest is parsed as ELF64 only
  Elf64_Ehdr eh;
  if (!ReadAt(data, 0, &eh)) return bad("truncated ELF header");
  facts.x86_64 = eh.e_machine == EM_X86_64;
  facts.executable = eh.e_type == ET_EXEC;
  if (eh.e_phnum > 0 && eh.e_phentsize < sizeof(Elf64_Phdr)) return bad("program header entries too small");
  for (uint32_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!ReadAt(data, eh.e_phoff + uint64_t{i} * eh.e_phentsize, &ph)) return bad("truncated program headers");
    if (ph.p_type == PT_INTERP) facts.has_interp = true;
    if (ph.p_type == PT_DYNAMIC) facts.has_dynamic = true;
  }
  if (eh.e_shnum > 0 && eh.e_shentsize < sizeof(Elf64_Shdr)) return bad("section header entries too small");
  for (uint32_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    if (!ReadAt(data, eh.e_shoff + uint64_t{i} * eh.e_shentsize, &sh)) return bad("truncated section headers");
    if (sh.sh_type == SHT_SYMTAB) facts.has_symtab = true;
  }
  return facts;
}

Status CheckStaticElf(const std::string& path) {
  auto facts = ReadElfFacts(path);
  if (!facts.ok()) return facts.status();
  auto fail = [&](std::string_view why) { return InvalidArgument(fmt::format("{} {}", path, why)); };
  if (!facts->elf64) return fail("is not a 64-bit little-endian ELF file");
  if (!facts->x86_64) return fail("is not built for x86-64 (amd64)");
  if (facts->has_interp) return fail("needs a dynamic loader (has PT_INTERP): it is not statically linked");
  if (facts->has_dynamic) return fail("has a dynamic section (PT_DYNAMIC): it is not statically linked");
  if (!facts->executable) return fail("is not an ELF executable (ET_EXEC)");
  if (facts->has_symtab) return fail("has a symbol table (.symtab): it is not stripped");
  return OkStatus();
}

}  // namespace ignite::build
