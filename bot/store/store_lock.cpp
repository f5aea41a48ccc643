#include "bot/store/store_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace flare::store {

std::string store_lock::lock_path(const std::string& store_path) { return store_path + ".lock"; }

std::unique_ptr<store_lock> store_lock::acquire(const std::string& store_path) {
  const std::string path = lock_path(store_path);
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw store_error("cannot open the lock file " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buffer[32] = {};
    const auto n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) throw store_error("cannot lock " + path + ": " + std::strerror(err));
    const long pid = n > 0 ? std::strtol(buffer, nullptr, 10) : 0;
    throw store_locked("the store " + store_path + " is in use by another flare (pid " +
                           (pid > 0 ? std::to_string(pid) : std::string("unknown")) + ", lock file " + path +
                           "); one store serves one bot. Stop that process first, or give this one its own "
                           "store.path",
                       pid);
  }
  // Ours now: record who holds it, for the message the next process prints.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock itself is held; only the courtesy pid is missing.
  }
  return std::unique_ptr<store_lock>(new store_lock(fd));
}

store_lock::~store_lock() {
  // Truncated, not removed: removing would let a newcomer lock a fresh inode while a slow
  // starter still holds the old one.
  if (::ftruncate(fd_, 0) != 0) {
  }
  ::close(fd_);
}

}  // namespace flare::store
