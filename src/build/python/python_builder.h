// The Python compile path: check a saved source tree, then build it into a self-contained tree (the code, its
// requirements installed as binary wheels, the bundled SDK, all byte-compiled), packed as the version's
// artifact. docs/runtimes/python.md is the user-facing contract.
//
// Thread-safety: all functions are reentrant. Concurrent builds are safe as long as each has its own
// work_dir; they may share cache_dir (the wheel cache is written through temporary directories and renames).
// All functions block the calling thread while child processes run: never call them on an event loop.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "build/builder.h"

namespace ignite::build {

// How to run the interpreter; DefaultPythonToolchain fills it in.
struct PythonToolchain {
  std::string python;          // absolute path of the interpreter (IGNITE_PYTHON, default /usr/bin/python3.11)
  std::string version;         // "3.11.2", as the interpreter reports it
  std::string stdlib_dir;      // its standard library (/usr/lib/python3.11), bound read-only into instances
  std::string multiarch;       // "x86_64-linux-gnu": the shared-library directory name instances need
  std::string sdk_dir;         // the bundled SDK (sdk/python): ignite/, ignite_main.py, VERSION
  std::string sdk_version;     // content of sdk_dir/VERSION, trimmed
  std::string checker;         // pycheck.py (the source checker); empty: the one in this tree
  std::string cache_dir;       // wheels/<key>/ per requirements.txt content, pip/ pip's HTTP cache; survives restarts
  // The environment pip runs with, before the build's own settings: PATH, proxy settings (HTTPS_PROXY,
  // NO_PROXY, ...), PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_TRUSTED_HOST, SSL_CERT_FILE. Nothing else.
  std::map<std::string, std::string> base_env;
};

// Checks saved code before it is stored (a single .py file, which becomes handler.py, or a zip / tar.gz):
// archive safety (archive::ExtractTo's checks), then with Python's own parser in the build sandbox (no
// network; the code is parsed, never imported): handler.py at the root defining a top-level `handler` that
// takes (payload, ctx), every .py file free of syntax errors, requirements.txt without editable or
// version-control lines. Every problem in one InvalidArgument, each as "./file.py:line:col: what is wrong
// and how to fix it". FailedPrecondition when the interpreter or the checker is missing; Internal when it
// fails to run.
Status CheckPythonSource(const PythonToolchain& tc, const Source& source, const CheckContext& ctx);

// Builds the source in ctx.work_dir:
//   1. extract to <work_dir>/src and run the same check as CheckPythonSource;
//   2. with a requirements.txt: the wheels it resolves to come from the cache (<cache_dir>/wheels/<sha256 of
//      the file and the interpreter version>), or are fetched into it first with `pip download
//      --only-binary=:all:` (the only step with network); then `pip install --no-index --find-links <those
//      wheels> --target <out>/site` without network. No source distribution is ever built;
//   3. the code becomes <out>/app, the SDK <out>/sdk; everything is byte-compiled (unchecked-hash pycs,
//      valid whatever the files' times are after unpacking);
//   4. <out> is packed (archive::PackDirectory, deterministic) into <work_dir>/python-app.tar.gz.
// Each step is logged as a "==> step" line, pip's output line by line. Errors: as CheckPythonSource;
// InvalidArgument "installing requirements failed: <pip's message>" with a hint about binary wheels;
// DeadlineExceeded when ctx.timeout passes; Cancelled; Internal for I/O errors and killed tools.
Result<BuildOutput> BuildPython(const PythonToolchain& tc, const Source& source, const BuildContext& ctx);

// Asks `python` (empty: IGNITE_PYTHON of `env`, else the one configured at build time) for its version,
// standard library and multiarch directory, reads sdk_dir/VERSION, creates cache_dir, and takes base_env from
// `env`. FailedPrecondition naming what is missing and how to install it.
Result<PythonToolchain> DefaultPythonToolchain(const std::string& python, const std::string& sdk_dir,
                                               const std::string& cache_dir,
                                               const std::map<std::string, std::string>& env);

}  // namespace ignite::build
