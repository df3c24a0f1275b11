#include "store/durable_watermark.h"

#include <array>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "store/crc32c.h"

namespace xfer::store {
namespace {

constexpr std::size_t kSlotSize = 512;
constexpr std::size_t kFileSize = 2 * kSlotSize;
constexpr std::string_view kMagic = "xfer-wm1";
constexpr std::size_t kEntrySize = 8 + 8 + 4;

using Entry = std::array<char, kEntrySize>;

Entry encode_entry(std::uint64_t commit) {
  Entry e{};
  std::memcpy(e.data(), kMagic.data(), kMagic.size());
  for (int i = 0; i < 8; ++i) e[8 + i] = static_cast<char>((commit >> (8 * i)) & 0xFF);
  const std::uint32_t crc = crc32c(e.data(), 16);
  for (int i = 0; i < 4; ++i) e[16 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  return e;
}

std::optional<std::uint64_t> decode_entry(const char* p) {
  if (std::memcmp(p, kMagic.data(), kMagic.size()) != 0) return std::nullopt;
  std::uint32_t crc = 0;
  for (int i = 3; i >= 0; --i) crc = (crc << 8) | static_cast<unsigned char>(p[16 + i]);
  if (crc != crc32c(p, 16)) return std::nullopt;
  std::uint64_t commit = 0;
  for (int i = 7; i >= 0; --i) commit = (commit << 8) | static_cast<unsigned char>(p[8 + i]);
  return commit;
}

std::string path_in(const std::string& directory, const char* name) { return directory + "/" + name; }

Error io_error(int err, std::string_view what, const std::string& path) {
  return error_from_errno(err, fmt::format("{} {}", what, path));
}

bool write_all_at(int fd, const char* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}

// Created under a temporary name and renamed, so the file is either absent or whole.
Result<void> create(const std::string& directory, std::uint64_t value) {
  const std::string path = path_in(directory, DurableWatermark::kFileName);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(io_error(errno, "creating", tmp));
  std::array<char, kFileSize> bytes{};
  const Entry e = encode_entry(value);
  std::memcpy(bytes.data(), e.data(), e.size());
  std::memcpy(bytes.data() + kSlotSize, e.data(), e.size());
  if (!write_all_at(fd, bytes.data(), bytes.size(), 0) || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return std::unexpected(io_error(err, "writing", tmp));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return std::unexpected(io_error(errno, "renaming", tmp));
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return std::unexpected(io_error(errno, "opening", directory));
  const int rc = ::fsync(dir);
  const int err = errno;
  ::close(dir);
  if (rc != 0) return std::unexpected(io_error(err, "syncing", directory));
  return {};
}

}  // namespace

Result<std::optional<std::uint64_t>> DurableWatermark::read(const std::string& directory) {
  const std::string path = path_in(directory, kFileName);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::uint64_t>();
    return std::unexpected(io_error(errno, "opening", path));
  }
  std::array<char, kFileSize> bytes{};
  const ssize_t n = ::pread(fd, bytes.data(), bytes.size(), 0);
  const int err = errno;
  ::close(fd);
  if (n < 0) return std::unexpected(io_error(err, "reading", path));
  std::optional<std::uint64_t> best;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    if (static_cast<std::size_t>(n) < slot * kSlotSize + kEntrySize) continue;
    if (auto v = decode_entry(bytes.data() + slot * kSlotSize); v && (!best || *v > *best)) best = v;
  }
  if (!best)
    return fail(ErrorCategory::Journal,
                fmt::format("{} is damaged: neither of its two copies of the last durable commit number is valid", path));
  return best;
}

Result<std::unique_ptr<DurableWatermark>> DurableWatermark::open(const std::string& directory, std::uint64_t value) {
  const std::string path = path_in(directory, kFileName);
  auto stored = read(directory);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) {
    if (auto r = create(directory, value); !r) return std::unexpected(r.error());
    stored = std::optional<std::uint64_t>(value);
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::unexpected(io_error(errno, "opening", path));
  std::unique_ptr<DurableWatermark> watermark(new DurableWatermark(fd, **stored));
  if (value > watermark->value_) watermark->advance(value);
  return watermark;
}

DurableWatermark::~DurableWatermark() { ::close(fd_); }

void DurableWatermark::advance(std::uint64_t commit) {
  if (commit <= value_) return;
  const Entry e = encode_entry(commit);
  if (write_all_at(fd_, e.data(), e.size(), static_cast<off_t>((commit % 2) * kSlotSize))) value_ = commit;
}

}  // namespace xfer::store
