#include "testserver/app/upload_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

namespace xts {

namespace {

constexpr std::string_view kKeyPrefix = "upload/";

std::unexpected<StoreError> sys_error(std::string_view what, int err = errno) {
  return std::unexpected(StoreError{err, fmt::format("{}: {}", what, std::strerror(err))});
}

// leveldb's Status carries no errno, only the strerror() text of the POSIX call that failed:
// recover the two that mean "disk full" from it.
int leveldb_errno(const leveldb::Status& status) {
  const auto text = status.ToString();
  for (const int err : {ENOSPC, EDQUOT}) {
    if (text.find(std::strerror(err)) != std::string::npos) return err;
  }
  return EIO;
}

nlohmann::json to_json(const UploadRecord& r) {
  nlohmann::json j;
  j["id"] = r.id;
  j["version"] = r.version;
  j["dest"] = r.dest;
  j["offset"] = r.offset;
  if (r.length) j["length"] = *r.length;
  j["complete"] = r.complete;
  j["max_size"] = r.limits.max_size;
  j["min_size"] = r.limits.min_size;
  if (r.limits.max_append_size) j["max_append_size"] = *r.limits.max_append_size;
  if (r.limits.min_append_size) j["min_append_size"] = *r.limits.min_append_size;
  j["max_age"] = r.limits.max_age;
  j["created"] = r.created;
  j["expires"] = r.expires;
  return j;
}

std::optional<UploadRecord> from_json(const std::string& s) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    UploadRecord r;
    r.id = j.at("id").get<std::string>();
    r.version = j.at("version").get<int>();
    r.dest = j.at("dest").get<std::string>();
    r.offset = j.at("offset").get<std::uint64_t>();
    if (j.contains("length")) r.length = j["length"].get<std::uint64_t>();
    r.complete = j.at("complete").get<bool>();
    r.limits.max_size = j.at("max_size").get<std::uint64_t>();
    r.limits.min_size = j.at("min_size").get<std::uint64_t>();
    if (j.contains("max_append_size")) r.limits.max_append_size = j["max_append_size"].get<std::uint64_t>();
    if (j.contains("min_append_size")) r.limits.min_append_size = j["min_append_size"].get<std::uint64_t>();
    r.limits.max_age = j.at("max_age").get<std::uint64_t>();
    r.created = j.at("created").get<std::int64_t>();
    r.expires = j.at("expires").get<std::int64_t>();
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

bool fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// 0, or the errno that stopped the copy.
int copy_file_synced(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return err;
  }
  std::vector<char> buf(1 << 20);
  int err = 0;
  while (err == 0) {
    const auto n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    std::size_t done = 0;
    while (done < static_cast<std::size_t>(n)) {
      const auto w = ::write(out, buf.data() + done, static_cast<std::size_t>(n) - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        err = w < 0 ? errno : EIO;
        break;
      }
      done += static_cast<std::size_t>(w);
    }
  }
  if (err == 0 && ::fsync(out) != 0) err = errno;
  ::close(in);
  ::close(out);
  return err;
}

}  // namespace

bool StoreError::no_space() const { return sys_errno == ENOSPC || sys_errno == EDQUOT; }

std::expected<std::unique_ptr<UploadStore>, std::string> UploadStore::open(const std::string& data_dir,
                                                                          const PathGuard& root) {
  for (const auto& dir : {data_dir, data_dir + "/parts"}) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return std::unexpected(fmt::format("cannot create {}: {}", dir, std::strerror(errno)));
  }
  std::unique_ptr<UploadStore> store(new UploadStore(data_dir, root));
  leveldb::Options options;
  options.create_if_missing = true;
  const auto status = leveldb::DB::Open(options, data_dir + "/uploads.db", &store->db_);
  if (!status.ok()) return std::unexpected("cannot open upload state: " + status.ToString());
  store->recover();
  return store;
}

UploadStore::~UploadStore() {
  for (auto& [id, u] : uploads_) {
    if (u->fd >= 0) ::close(u->fd);
  }
  delete db_;
}

std::string UploadStore::new_id() const {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's generator failed: fall back to the kernel's.
    const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::read(fd, bytes, sizeof bytes) != static_cast<ssize_t>(sizeof bytes)) std::abort();
    ::close(fd);
  }
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::string UploadStore::part_path(const std::string& id) const { return data_ + "/parts/" + id + ".part"; }

StoreResult UploadStore::put(const UploadRecord& rec) {
  std::string value;
  try {
    // The JSON boundary: dest comes from a request. PathGuard only lets UTF-8 through, but a
    // record that cannot be serialised must fail this one request, never the process.
    value = to_json(rec).dump();
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(StoreError{EINVAL, fmt::format("cannot encode the upload record: {}", e.what())});
  }
  leveldb::WriteOptions wo;
  wo.sync = true;
  const auto status = db_->Put(wo, std::string(kKeyPrefix) + rec.id, value);
  if (!status.ok()) return std::unexpected(StoreError{leveldb_errno(status), "cannot record upload: " + status.ToString()});
  return {};
}

void UploadStore::erase_record(const std::string& id) {
  leveldb::WriteOptions wo;
  wo.sync = true;
  db_->Delete(wo, std::string(kKeyPrefix) + id);
}

std::shared_ptr<Upload> UploadStore::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto it = uploads_.find(id);
  if (it == uploads_.end() || it->second->gone) return nullptr;
  return it->second;
}

std::expected<std::shared_ptr<Upload>, StoreError> UploadStore::create(UploadRecord rec) {
  const auto path = part_path(rec.id);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("cannot create part file");
  ::fsync(fd);
  fsync_dir(data_ + "/parts");
  if (auto r = put(rec); !r) {
    ::close(fd);
    ::unlink(path.c_str());
    return std::unexpected(r.error());
  }
  auto u = std::make_shared<Upload>();
  u->rec = std::move(rec);
  u->fd = fd;
  std::lock_guard lock(mutex_);
  uploads_[u->rec.id] = u;
  return u;
}

StoreResult UploadStore::ensure_fd(Upload& u) {
  if (u.fd >= 0) return {};
  u.fd = ::open(part_path(u.rec.id).c_str(), O_RDWR | O_CLOEXEC);
  if (u.fd < 0) return sys_error("cannot open part file");
  return {};
}

StoreResult UploadStore::write(Upload& u, std::uint64_t offset, const std::uint8_t* data, std::size_t n) {
  if (auto r = ensure_fd(u); !r) return r;
  std::size_t done = 0;
  while (done < n) {
    const auto w = ::pwrite(u.fd, data + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return sys_error("cannot store the content", w < 0 ? errno : EIO);
    done += static_cast<std::size_t>(w);
  }
  return {};
}

StoreResult UploadStore::sync_offset(Upload& u, std::uint64_t offset) {
  if (auto r = ensure_fd(u); !r) return r;
  if (::fdatasync(u.fd) != 0) return sys_error("cannot sync the content");
  UploadRecord copy;
  {
    std::lock_guard lock(mutex_);
    copy = u.rec;
  }
  copy.offset = offset;
  if (auto r = put(copy); !r) return r;
  std::lock_guard lock(mutex_);
  u.rec.offset = offset;
  return {};
}

StoreResult UploadStore::truncate_to(Upload& u, std::uint64_t offset) {
  if (auto r = ensure_fd(u); !r) return r;
  // Record first: a crash between the two leaves a longer file, which open() cuts back.
  UploadRecord copy;
  {
    std::lock_guard lock(mutex_);
    copy = u.rec;
  }
  copy.offset = offset;
  if (auto r = put(copy); !r) return r;
  {
    std::lock_guard lock(mutex_);
    u.rec.offset = offset;
  }
  if (::ftruncate(u.fd, static_cast<off_t>(offset)) != 0 || ::fdatasync(u.fd) != 0) return sys_error("cannot truncate");
  return {};
}

StoreResult UploadStore::move_into_root(const std::string& part, const std::string& dest) {
  const auto path = root_.prepare_new(dest);
  if (!path) {
    if (path.error() == PathError::kNoSpace) return sys_error("cannot create the directories", ENOSPC);
    return std::unexpected(StoreError{EINVAL, "destination path not allowed"});
  }
  const auto& target = path->target;
  // Directories made for a file that does not arrive are taken back.
  const auto fail = [&](std::string_view what, int err) {
    PathGuard::remove_created(*path);
    return sys_error(what, err);
  };
  if (::rename(part.c_str(), target.c_str()) == 0) {
    fsync_dir(parent_of(target));
    fsync_dir(data_ + "/parts");
    return {};
  }
  if (errno != EXDEV) return fail("rename failed", errno);
  // --data and --root on different file systems: copy next to the target, then rename there.
  const std::string tmp = parent_of(target) + "/.xfer-upload-" + std::to_string(::getpid()) + ".tmp";
  if (const int err = copy_file_synced(part, tmp); err != 0) {
    ::unlink(tmp.c_str());
    return fail("copy into root failed", err);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail("rename failed", err);
  }
  fsync_dir(parent_of(target));
  ::unlink(part.c_str());
  return {};
}

StoreResult UploadStore::finish(Upload& u, std::uint64_t final_size) {
  if (auto r = ensure_fd(u); !r) return r;
  if (::fdatasync(u.fd) != 0) return sys_error("fdatasync failed");
  UploadRecord copy;
  {
    std::lock_guard lock(mutex_);
    copy = u.rec;
  }
  copy.offset = final_size;
  copy.length = final_size;
  copy.complete = true;
  // Recorded complete before the move: if we crash in between, open() finishes the move.
  if (auto r = put(copy); !r) return r;
  {
    std::lock_guard lock(mutex_);
    u.rec = copy;
  }
  ::close(u.fd);
  u.fd = -1;
  auto moved = move_into_root(part_path(u.rec.id), u.rec.dest);
  if (!moved) {
    // The bytes are still in the part file: record the upload incomplete again, so the client
    // can complete it once there is room (or the path is fixed) instead of meeting "completed".
    UploadRecord back = copy;
    back.complete = false;
    if (put(back)) {
      std::lock_guard lock(mutex_);
      u.rec = back;
    }
  }
  return moved;
}

void UploadStore::remove(Upload& u) {
  {
    std::lock_guard lock(mutex_);
    u.gone = true;
    uploads_.erase(u.rec.id);
  }
  if (u.fd >= 0) {
    ::close(u.fd);
    u.fd = -1;
  }
  ::unlink(part_path(u.rec.id).c_str());
  erase_record(u.rec.id);
}

std::size_t UploadStore::expire(std::int64_t now) {
  std::vector<std::shared_ptr<Upload>> dead;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, u] : uploads_) {
      if (u->rec.expires <= now && u->state == Upload::State::kIdle && !u->gone) {
        u->gone = true;
        dead.push_back(u);
      }
    }
  }
  for (auto& u : dead) remove(*u);
  return dead.size();
}

void UploadStore::recover() {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  std::vector<std::string> drop;
  for (it->Seek(std::string(kKeyPrefix)); it->Valid() && it->key().starts_with(std::string(kKeyPrefix));
       it->Next()) {
    auto rec = from_json(it->value().ToString());
    const std::string id = it->key().ToString().substr(kKeyPrefix.size());
    if (!rec || rec->id != id || rec->expires <= now) {
      drop.push_back(id);
      continue;
    }
    const auto part = part_path(id);
    struct stat st{};
    const bool has_part = ::stat(part.c_str(), &st) == 0;
    if (rec->complete) {
      if (has_part) {
        // An impossible path is dropped; on a full root the upload becomes incomplete again
        // (as finish() does), so the client can complete it once there is room.
        if (auto moved = move_into_root(part, rec->dest); !moved) {
          if (!moved.error().no_space()) {
            drop.push_back(id);
            continue;
          }
          rec->complete = false;
          (void)put(*rec);
        }
      }
    } else if (!has_part) {
      if (rec->offset != 0) {
        drop.push_back(id);  // bytes we acknowledged are gone: deactivate, never resume wrongly
        continue;
      }
      const int fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) ::close(fd);
    } else if (static_cast<std::uint64_t>(st.st_size) < rec->offset) {
      drop.push_back(id);
      continue;
    } else if (static_cast<std::uint64_t>(st.st_size) > rec->offset) {
      // Bytes written after the last recorded sync: not acknowledged, so cut them off.
      const int fd = ::open(part.c_str(), O_RDWR | O_CLOEXEC);
      if (fd >= 0) {
        if (::ftruncate(fd, static_cast<off_t>(rec->offset)) != 0 || ::fdatasync(fd) != 0) {
          ::close(fd);
          drop.push_back(id);
          continue;
        }
        ::close(fd);
      }
    }
    auto u = std::make_shared<Upload>();
    u->rec = std::move(*rec);
    uploads_[id] = std::move(u);
  }
  for (const auto& id : drop) {
    ::unlink(part_path(id).c_str());
    erase_record(id);
  }
  // Part files without a record belong to nobody (a crash between create's two steps).
  if (DIR* d = ::opendir((data_ + "/parts").c_str())) {
    while (auto* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() <= 5 || name.substr(name.size() - 5) != ".part") continue;
      if (!uploads_.contains(name.substr(0, name.size() - 5))) ::unlink((data_ + "/parts/" + name).c_str());
    }
    ::closedir(d);
  }
}

}  // namespace xts
