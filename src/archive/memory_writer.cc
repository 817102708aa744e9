#include "archive/memory_writer.h"

#include <archive.h>
#include <archive_entry.h>

#include <fmt/format.h>

#include "archive/locale_scope.h"

namespace ignite::archive {
namespace {

la_ssize_t AppendCallback(struct archive*, void* client, const void* buf, size_t size) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

std::string Error(struct archive* a) {
  const char* msg = archive_error_string(a);
  return msg ? msg : "unknown error";
}

}  // namespace

Result<std::unique_ptr<MemoryWriter>> MemoryWriter::Create(Kind kind) {
  std::unique_ptr<MemoryWriter> w(new MemoryWriter());
  w->a_ = archive_write_new();
  if (!w->a_) return Internal("libarchive: out of memory");
  int rc;
  if (kind == Kind::kZip) {
    rc = archive_write_set_format_zip(w->a_);
  } else {
    rc = archive_write_set_format_pax_restricted(w->a_);
    if (rc == ARCHIVE_OK) rc = archive_write_add_filter_gzip(w->a_);
    // "!timestamp": no modification time in the gzip header, so equal trees give equal bytes.
    if (rc == ARCHIVE_OK) rc = archive_write_set_filter_option(w->a_, "gzip", "timestamp", nullptr);
  }
  if (rc == ARCHIVE_OK) rc = archive_write_set_bytes_in_last_block(w->a_, 1);
  if (rc == ARCHIVE_OK) rc = archive_write_open2(w->a_, &w->out_, nullptr, AppendCallback, nullptr, nullptr);
  if (rc != ARCHIVE_OK) return Internal("libarchive: cannot create an archive writer: " + Error(w->a_));
  return w;
}

MemoryWriter::~MemoryWriter() {
  if (a_) archive_write_free(a_);
}

Status MemoryWriter::Add(const RawEntry& raw) {
  Utf8LocaleScope locale;
  struct archive_entry* e = archive_entry_new();
  if (!e) return Internal("libarchive: out of memory");
  archive_entry_copy_pathname(e, raw.path.c_str());
  archive_entry_set_mtime(e, 0, 0);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  if (!raw.hardlink.empty()) {
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, raw.perm);
    archive_entry_copy_hardlink(e, raw.hardlink.c_str());
    archive_entry_set_size(e, 0);
  } else {
    archive_entry_set_filetype(e, raw.type);
    archive_entry_set_perm(e, raw.perm);
    if (raw.type == AE_IFLNK) archive_entry_copy_symlink(e, raw.symlink.c_str());
    if (raw.type == AE_IFCHR || raw.type == AE_IFBLK) archive_entry_set_rdev(e, raw.rdev);
    if (raw.type == AE_IFREG && !raw.omit_size) archive_entry_set_size(e, static_cast<la_int64_t>(raw.content.size()));
  }
  int rc = archive_write_header(a_, e);
  archive_entry_free(e);
  if (rc < ARCHIVE_WARN) return Internal(fmt::format("libarchive: cannot add \"{}\": {}", raw.path, Error(a_)));
  if (raw.type == AE_IFREG && raw.hardlink.empty() && !raw.content.empty()) {
    la_ssize_t n = archive_write_data(a_, raw.content.data(), raw.content.size());
    if (n < 0) return Internal(fmt::format("libarchive: cannot write \"{}\": {}", raw.path, Error(a_)));
  }
  return OkStatus();
}

Status MemoryWriter::AddFile(std::string_view path, std::string_view content, mode_t perm) {
  return Add({std::string(path), AE_IFREG, perm, std::string(content), {}, {}, 0, false});
}

Status MemoryWriter::AddDir(std::string_view path) {
  return Add({std::string(path), AE_IFDIR, 0755, {}, {}, {}, 0, false});
}

Status MemoryWriter::AddSymlink(std::string_view path, std::string_view target) {
  return Add({std::string(path), AE_IFLNK, 0777, {}, std::string(target), {}, 0, false});
}

Result<std::string> MemoryWriter::Finish() {
  if (finished_) return Internal("MemoryWriter::Finish called twice");
  finished_ = true;
  Utf8LocaleScope locale;
  if (archive_write_close(a_) != ARCHIVE_OK) return Internal("libarchive: cannot finish the archive: " + Error(a_));
  return std::move(out_);
}

}  // namespace ignite::archive
