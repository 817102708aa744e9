// Inspection of built executables: is it the static, stripped linux/amd64 binary the platform runs?
// Parses the ELF header, program headers and section headers directly (<elf.h>). Thread-safe.
#pragma once

#include <string>

#include "common/result.h"

namespace ignite::build {

struct ElfFacts {
  bool elf64 = false;        // ELFCLASS64, little endian
  bool x86_64 = false;       // EM_X86_64
  bool executable = false;   // ET_EXEC
  bool has_interp = false;   // a PT_INTERP program header (needs a dynamic loader)
  bool has_dynamic = false;  // a PT_DYNAMIC program header (dynamically linked)
  bool has_symtab = false;   // a SHT_SYMTAB section (symbols not stripped)
};

// Reads the facts of the file at `path`. NotFound if it does not exist; Internal if it cannot be read;
// InvalidArgument if it is not an ELF file or its headers are truncated or out of bounds.
Result<ElfFacts> ReadElfFacts(const std::string& path);

// OK iff `path` is an ELF64 x86-64 executable (ET_EXEC) without PT_INTERP, PT_DYNAMIC or .symtab. Otherwise
// InvalidArgument naming the first property that fails, checked in the order: class, machine, PT_INTERP,
// PT_DYNAMIC, type, .symtab (or ReadElfFacts's error).
Status CheckStaticElf(const std::string& path);

}  // namespace ignite::build
