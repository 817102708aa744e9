#include "common/secret_box.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/unique_fd.h"

namespace ignite {
namespace {

constexpr unsigned char kVersion1 = 0x01;
// EVP lengths are ints: longer inputs go through in pieces of this size.
constexpr size_t kChunk = size_t{1} << 30;

constexpr std::string_view kCannotDecrypt = "the stored secret cannot be decrypted: wrong key or damaged data";

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Status ErrnoError(std::string_view what, const std::string& path, int err) {
  return Internal(fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

// The GCM additional data: the version byte, then the caller's aad (header.size() is 1 + aad.size()).
std::string AuthenticatedHeader(unsigned char version, std::string_view aad) {
  std::string header(1, static_cast<char>(version));
  header.append(aad);
  return header;
}

// Feeds `in` to EVP_{En,De}cryptUpdate in int-sized pieces; `out` null for additional data. False on failure.
template <typename UpdateFn>
bool UpdateAll(EVP_CIPHER_CTX* ctx, UpdateFn update, std::string_view in, unsigned char* out) {
  size_t done = 0;
  while (done < in.size()) {
    const size_t n = std::min(kChunk, in.size() - done);
    int written = 0;
    if (update(ctx, out == nullptr ? nullptr : out + done, &written, Bytes(in) + done, static_cast<int>(n)) != 1) {
      return false;
    }
    if (out != nullptr && static_cast<size_t>(written) != n) return false;  // GCM is a stream mode.
    done += n;
  }
  return true;
}

// Reads the whole of a key file, at most kKeySize + 1 bytes (enough to tell a wrong size).
Result<std::string> ReadKeyFile(int fd, const std::string& path) {
  std::string data(SecretBox::kKeySize + 1, '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot read key file", path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != SecretBox::kKeySize) {
    struct stat st {};
    const bool have_size = ::fstat(fd, &st) == 0;
    OPENSSL_cleanse(data.data(), data.size());
    return InvalidArgument(fmt::format(
        "key file {} is {} bytes, not the {} of an AES-256 key; it must be the file ignited created (restore it "
        "from a backup: secrets sealed with another key cannot be opened)",
        path, have_size ? static_cast<int64_t>(st.st_size) : static_cast<int64_t>(got), SecretBox::kKeySize));
  }
  data.resize(got);
  return data;
}

// fsyncs directory `dir` so an entry just made in it survives a crash.
Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError("cannot open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoError("cannot fsync directory", dir, errno);
  return OkStatus();
}

// Writes a fresh key to `path`, which did not exist. Returns the key now at `path`: ours, or that of another
// process that created the file first (link() never replaces an existing file, unlike rename()).
Result<std::string> CreateKeyFile(const std::string& path) {
  const std::filesystem::path fs_path(path);
  const std::string dir = fs_path.has_parent_path() ? fs_path.parent_path().string() : std::string(".");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal(fmt::format("cannot create directory {} for key file {}: {}", dir, path, ec.message()));

  std::string key(SecretBox::kKeySize, '\0');
  if (RAND_bytes(Bytes(key), static_cast<int>(key.size())) != 1) std::abort();

  std::string tmp = path + ".tmp-XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));  // Mode 0600.
  if (!fd) return ErrnoError("cannot create a temporary file for key file", path, errno);
  // Removes the temporary name on every path out (after a successful link() too: the key stays at `path`).
  struct Unlinker {
    const std::string& name;
    ~Unlinker() { ::unlink(name.c_str()); }
  } unlink_tmp{tmp};

  size_t written = 0;
  while (written < key.size()) {
    ssize_t n = ::write(fd.get(), key.data() + written, key.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot write", tmp, errno);
    written += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), 0600) != 0) return ErrnoError("cannot chmod", tmp, errno);
  if (::fsync(fd.get()) != 0) return ErrnoError("cannot fsync", tmp, errno);
  fd.reset();

  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    OPENSSL_cleanse(key.data(), key.size());
    if (err != EEXIST) return ErrnoError("cannot create key file", path, err);
    // Another process created it between our open() and link(): its key is the one in use.
    UniqueFd existing(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!existing) return ErrnoError("cannot open key file", path, errno);
    return ReadKeyFile(existing.get(), path);
  }
  IGNITE_RETURN_IF_ERROR(SyncDir(dir));
  return key;
}

}  // namespace

Result<SecretBox> SecretBox::OpenKeyFile(const std::string& key_file) {
  UniqueFd fd(::open(key_file.c_str(), O_RDONLY | O_CLOEXEC));
  std::string key;
  if (fd) {
    IGNITE_ASSIGN_OR_RETURN(key, ReadKeyFile(fd.get(), key_file));
  } else if (errno == ENOENT) {
    IGNITE_ASSIGN_OR_RETURN(key, CreateKeyFile(key_file));
  } else {
    return ErrnoError("cannot open key file", key_file, errno);
  }
  SecretBox box(key);
  OPENSSL_cleanse(key.data(), key.size());
  return box;
}

SecretBox::SecretBox(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeySize) std::abort();
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string SecretBox::Seal(std::string_view plaintext, std::string_view aad) const {
  if (key_.size() != kKeySize) std::abort();  // A moved-from box.
  std::string out(plaintext.size() + kOverhead, '\0');
  unsigned char* p = Bytes(out);
  p[0] = kVersion1;
  unsigned char* nonce = p + 1;
  unsigned char* ciphertext = nonce + kNonceSize;
  unsigned char* tag = ciphertext + plaintext.size();
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) std::abort();

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  const std::string header = AuthenticatedHeader(kVersion1, aad);
  int final_len = 0;
  const bool ok = ctx != nullptr &&
                  // The default GCM IV length is 12, the nonce's size.
                  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), nonce) == 1 &&
                  UpdateAll(ctx.get(), EVP_EncryptUpdate, header, nullptr) &&
                  UpdateAll(ctx.get(), EVP_EncryptUpdate, plaintext, ciphertext) &&
                  EVP_EncryptFinal_ex(ctx.get(), tag, &final_len) == 1 && final_len == 0 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) == 1;
  if (!ok) std::abort();
  return out;
}

Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view aad) const {
  if (key_.size() != kKeySize) std::abort();  // A moved-from box.
  if (sealed.size() < kOverhead || static_cast<unsigned char>(sealed[0]) != kVersion1) {
    return Status(StatusCode::kDataLoss, std::string(kCannotDecrypt));
  }
  const unsigned char* nonce = Bytes(sealed) + 1;
  const std::string_view ciphertext = sealed.substr(1 + kNonceSize, sealed.size() - kOverhead);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; copy the tag rather than cast constness away.
  unsigned char tag[kTagSize];
  std::memcpy(tag, Bytes(sealed) + sealed.size() - kTagSize, kTagSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), nonce) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    return Internal("cannot set up AES-256-GCM decryption (OpenSSL)");
  }
  std::string plaintext(ciphertext.size(), '\0');
  const std::string header = AuthenticatedHeader(kVersion1, aad);
  int final_len = 0;
  const bool ok = UpdateAll(ctx.get(), EVP_DecryptUpdate, header, nullptr) &&
                  UpdateAll(ctx.get(), EVP_DecryptUpdate, ciphertext, Bytes(plaintext)) &&
                  // Verifies the tag; fails for any other key, aad or byte.
                  EVP_DecryptFinal_ex(ctx.get(), Bytes(plaintext) + plaintext.size(), &final_len) == 1 &&
                  final_len == 0;
  if (!ok) {
    // Nothing unauthenticated leaves this function.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return Status(StatusCode::kDataLoss, std::string(kCannotDecrypt));
  }
  return plaintext;
}

}  // namespace ignite
