#include "build/image/layer_check.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "archive/locale_scope.h"
#include "archive/paths.h"
#include "common/unique_fd.h"

namespace ignite::build::image {
namespace {

constexpr size_t kChunk = 256 * 1024;
// Decompressed tar bytes allowed beyond file contents: per entry (its header, pax records with long names
// and xattrs, padding to 512 bytes), and per layer (end-of-archive blocks, writers' padding to a block).
constexpr uint64_t kHeaderAllowance = 64 * 1024;
constexpr uint64_t kPaddingAllowance = 1024 * 1024;

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using Reader = std::unique_ptr<struct archive, ReadFree>;

struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Md = std::unique_ptr<EVP_MD_CTX, MdFree>;

Md NewSha256() {
  Md md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) std::abort();
  return md;
}

void Update(EVP_MD_CTX* md, const void* data, size_t n) {
  if (n > 0 && EVP_DigestUpdate(md, data, n) != 1) std::abort();
}

std::string FinalHex(EVP_MD_CTX* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md, out, &len) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 0xf];
  }
  return hex;
}

// The layer file as libarchive's input. Every byte read is also fed to `blob` (when set), so the blob's
// sha256 comes from the same read; Drain() then hashes whatever libarchive did not need (a tar reader
// stops at the end-of-archive blocks, a gzip reader may leave trailing bytes).
class FileSource {
 public:
  FileSource(int fd, EVP_MD_CTX* blob) : fd_(fd), blob_(blob), buf_(kChunk) {}

  static la_ssize_t Read(struct archive* a, void* self, const void** out) {
    auto* s = static_cast<FileSource*>(self);
    ssize_t n = s->ReadChunk();
    if (n < 0) {
      archive_set_error(a, s->errno_, "read failed: %s", std::strerror(s->errno_));
      return -1;
    }
    *out = s->buf_.data();
    return n;
  }

  // Hashes the rest of the file. False on a read error (errno in error()).
  bool Drain() {
    for (;;) {
      ssize_t n = ReadChunk();
      if (n < 0) return false;
      if (n == 0) return true;
    }
  }
  int error() const { return errno_; }

 private:
  ssize_t ReadChunk() {
    ssize_t n;
    do {
      n = ::read(fd_, buf_.data(), buf_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      errno_ = errno;
      return -1;
    }
    if (blob_) Update(blob_, buf_.data(), static_cast<size_t>(n));
    return n;
  }

  int fd_;
  EVP_MD_CTX* blob_;
  std::vector<char> buf_;
  int errno_ = 0;
};

class LayerChecker {
 public:
  LayerChecker(const std::string& path, std::string_view digest, const LayerLimits& limits,
               const LayerSummary& used)
      : path_(path), layer_(ShortDigest(digest)), limits_(limits), used_(used) {}

  Result<LayerSummary> Run() {
    Md blob = NewSha256();
    IGNITE_RETURN_IF_ERROR(CheckEntries(blob.get()));
    summary_.sha256 = FinalHex(blob.get());
    IGNITE_ASSIGN_OR_RETURN(summary_.diff_id, DiffId());
    return summary_;
  }

 private:
  // "sha256:<first 12 hex>", how the layer is named in messages.
  static std::string ShortDigest(std::string_view digest) {
    constexpr size_t kShown = 7 + 12;
    return std::string(digest.substr(0, std::min(digest.size(), kShown)));
  }

  Result<UniqueFd> Open() const {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return CannotRead(errno);
    return UniqueFd(fd);
  }

  Status CannotRead(int err) const {
    return Internal(fmt::format("cannot read layer {} at {}: {}; check that the file exists and is readable by "
                                "ignited",
                                layer_, path_, std::strerror(err)));
  }

  // A libarchive failure: the source's read error if there was one (Internal), else corrupt data. libarchive
  // does not always set a message (a gzip stream cut inside its trailer fails a data read without one).
  Status ArchiveError(struct archive* a, const FileSource& src, std::string_view where) const {
    if (src.error() != 0) return CannotRead(src.error());
    const char* msg = archive_error_string(a);
    if (msg && std::string_view(msg).starts_with("Unrecognized archive format")) {
      return InvalidArgument(fmt::format("layer {} is not a tar archive (uncompressed, gzip or zstd), or is "
                                         "corrupt; push the image again, built with a standard tool (docker build, "
                                         "buildah, kaniko)",
                                         layer_));
    }
    return InvalidArgument(fmt::format("layer {} is corrupt or truncated{}: {}; push the image again (and check "
                                       "the registry's copy of the layer)",
                                       layer_, where, msg ? msg : "the data ends early or is damaged"));
  }

  Result<Reader> OpenArchive(FileSource* src, bool raw) const {
    Reader a(archive_read_new());
    if (!a) return Internal("libarchive: out of memory");
    // The OCI layer media types: tar, tar+gzip, tar+zstd. Not filter_all: it also registers filters (lrzip,
    // lzop, grzip) that libarchive runs as external programs, which untrusted input must not reach.
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    if (raw) {
      archive_read_support_format_raw(a.get());
    } else {
      archive_read_support_format_tar(a.get());
    }
    // A zero-byte blob reads as a layer with no entries (as Docker's and containerd's tar readers take it);
    // neither the tar nor the raw reader would recognise it.
    archive_read_support_format_empty(a.get());
    if (archive_read_open(a.get(), src, nullptr, &FileSource::Read, nullptr) != ARCHIVE_OK) {
      return ArchiveError(a.get(), *src, "");
    }
    return a;
  }

  // Pass 1: every entry's name, link target and size, with the blob hashed from the same reads.
  Status CheckEntries(EVP_MD_CTX* blob) {
    IGNITE_ASSIGN_OR_RETURN(UniqueFd fd, Open());
    FileSource src(fd.get(), blob);
    IGNITE_ASSIGN_OR_RETURN(Reader reader, OpenArchive(&src, /*raw=*/false));
    struct archive* a = reader.get();
    std::vector<char> buf(kChunk);
    for (;;) {
      struct archive_entry* e = nullptr;
      int rc = archive_read_next_header(a, &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) return ArchiveError(a, src, fmt::format(" after {} entries", summary_.entries));
      ++summary_.entries;
      std::string name = Name(archive_entry_pathname(e), archive_entry_pathname_utf8(e));
      IGNITE_RETURN_IF_ERROR(CheckEntryCount(name));
      std::string quoted = archive::QuoteName(name);
      IGNITE_RETURN_IF_ERROR(CheckPath(name.empty() ? fmt::format("entry #{}", summary_.entries)
                                                    : fmt::format("the entry \"{}\"", quoted),
                                       name));
      if (archive_entry_hardlink(e) || archive_entry_hardlink_utf8(e)) {
        std::string target = Name(archive_entry_hardlink(e), archive_entry_hardlink_utf8(e));
        IGNITE_RETURN_IF_ERROR(CheckPath(
            fmt::format("the hard link \"{}\" points to \"{}\", which", quoted, archive::QuoteName(target)), target));
      }
      // Fail fast on the size the header declares; the data is then counted as read, which is what counts.
      if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
        auto declared = static_cast<uint64_t>(archive_entry_size(e));
        IGNITE_RETURN_IF_ERROR(CheckSize(name, declared, summary_.bytes + declared));
      }
      uint64_t file_bytes = 0;
      for (;;) {
        la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0) return ArchiveError(a, src, fmt::format(" in \"{}\"", quoted));
        file_bytes += static_cast<uint64_t>(n);
        summary_.bytes += static_cast<uint64_t>(n);
        IGNITE_RETURN_IF_ERROR(CheckSize(name, file_bytes, summary_.bytes));
      }
    }
    if (!src.Drain()) return CannotRead(src.error());
    return OkStatus();
  }

  // Pass 2: the decompressed stream, hashed whole (trailing bytes after the tar's end included: the
  // diff_id covers the stream, not the entries). Pass 1 bounded what the entries hold, but the tar reader
  // stops at the end-of-archive blocks; a small blob could still decompress to terabytes of zeros after
  // them, so the stream is bounded by what pass 1 saw plus generous room for headers and padding.
  Result<std::string> DiffId() const {
    const uint64_t max_stream = summary_.bytes + summary_.entries * kHeaderAllowance + kPaddingAllowance;
    IGNITE_ASSIGN_OR_RETURN(UniqueFd fd, Open());
    FileSource src(fd.get(), nullptr);
    IGNITE_ASSIGN_OR_RETURN(Reader reader, OpenArchive(&src, /*raw=*/true));
    struct archive* a = reader.get();
    Md md = NewSha256();
    struct archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc < ARCHIVE_WARN && rc != ARCHIVE_EOF) return ArchiveError(a, src, "");
    if (rc != ARCHIVE_EOF) {
      std::vector<char> buf(kChunk);
      uint64_t stream = 0;
      for (;;) {
        la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0) return ArchiveError(a, src, "");
        stream += static_cast<uint64_t>(n);
        if (stream > max_stream) {
          return InvalidArgument(fmt::format(
              "layer {} decompresses to more than {}, far more than its {} entries hold (data after the end of "
              "the tar archive); rebuild the image with a standard tool (docker build, buildah, kaniko) and push "
              "it again",
              layer_, archive::FormatBytes(max_stream), summary_.entries));
        }
        Update(md.get(), buf.data(), static_cast<size_t>(n));
      }
    }
    return FinalHex(md.get());
  }

  // The name as libarchive has it in the current locale, else as UTF-8; "" when neither converts.
  static std::string Name(const char* mbs, const char* utf8) {
    if (mbs) return mbs;
    return utf8 ? utf8 : "";
  }

  Status CheckEntryCount(const std::string& name) const {
    if (used_.entries + summary_.entries > limits_.max_entries) {
      return InvalidArgument(fmt::format(
          "the image has more than {} entries (files, directories and links, all layers together), reached at "
          "\"{}\" in layer {}; make the image smaller (a smaller base image, a multi-stage build, fewer files)",
          limits_.max_entries, archive::QuoteName(name), layer_));
    }
    return OkStatus();
  }

  // `path` is an entry's name or its hard link target (`subject` says which, for the message): it must stay
  // inside the image root wherever the layer is unpacked. Symbolic link targets are not checked (see the
  // header).
  Status CheckPath(std::string_view subject, std::string_view path) const {
    auto reject = [&](std::string_view why) {
      return InvalidArgument(fmt::format(
          "layer {}: {} {}, so the layer could write outside the image root; rebuild the image with a standard "
          "tool (docker build, buildah, kaniko) and push it again",
          layer_, subject, why));
    };
    if (path.empty()) return reject("is empty or not valid in UTF-8");
    if (path.front() == '/') return reject("is an absolute path");
    for (size_t start = 0; start <= path.size();) {
      size_t slash = path.find('/', start);
      if (slash == std::string_view::npos) slash = path.size();
      if (path.substr(start, slash - start) == "..") {
        return reject("has a \"..\" component");
      }
      start = slash + 1;
    }
    return OkStatus();
  }

  // `file_bytes` is this entry's data, `layer_bytes` this layer's, both so far (or as the header declares).
  Status CheckSize(const std::string& name, uint64_t file_bytes, uint64_t layer_bytes) const {
    if (file_bytes > limits_.max_file_bytes) {
      return InvalidArgument(fmt::format(
          "layer {}: the file \"{}\" is over the limit of {} per file (decompressed); make it smaller, or fetch "
          "it at run time instead of putting it in the image",
          layer_, archive::QuoteName(name), archive::FormatBytes(limits_.max_file_bytes)));
    }
    if (used_.bytes + layer_bytes > limits_.max_image_bytes) {
      return InvalidArgument(fmt::format(
          "the image is over the limit of {} of file contents (decompressed, all layers together), reached at "
          "\"{}\" in layer {}; make the image smaller (a smaller base image, a multi-stage build, fewer files)",
          archive::FormatBytes(limits_.max_image_bytes), archive::QuoteName(name), layer_));
    }
    return OkStatus();
  }

  const std::string& path_;
  std::string layer_;
  const LayerLimits& limits_;
  const LayerSummary& used_;
  LayerSummary summary_;
};

}  // namespace

// The returned entries and bytes are this layer's own; the caller adds them to `used` for the next layer.
Result<LayerSummary> CheckLayer(const std::string& path, std::string_view digest, const LayerLimits& limits,
                                const LayerSummary& used) {
  // libarchive converts names through the thread's locale; C.UTF-8 makes that the identity for UTF-8 names.
  archive::Utf8LocaleScope locale;
  return LayerChecker(path, digest, limits, used).Run();
}

}  // namespace ignite::build::image
