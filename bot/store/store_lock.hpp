// One process per SQLite store: `flare run` and `flare console` hold an exclusive flock on
// `<store>.lock` (which holds their pid) for as long as they run, so a second bot on the same
// store stops at start instead of posting every card twice. `flare restore` takes it too (no bot
// may run while the file is replaced); `flare backup` does not need it (SQLite's own locking
// gives the copy a consistent snapshot). The kernel drops the lock when the process dies, even
// on kill -9, so a stale lock file never blocks a restart.
#pragma once

#include <memory>
#include <string>

#include "bot/store/store.hpp"

namespace flare::store {

// Another process holds the lock; `holder_pid` is what it wrote (0 if unreadable).
class store_locked : public store_error {
 public:
  store_locked(const std::string& message, long holder_pid) : store_error(message), holder_pid(holder_pid) {}
  long holder_pid;
};

class store_lock {
 public:
  // Takes the lock for the store at `store_path` (creating `<store>.lock`), or throws
  // store_locked naming the holder's pid, or store_error if the lock file cannot be made.
  static std::unique_ptr<store_lock> acquire(const std::string& store_path);
  static std::string lock_path(const std::string& store_path);

  ~store_lock();
  store_lock(const store_lock&) = delete;
  store_lock& operator=(const store_lock&) = delete;

 private:
  explicit store_lock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace flare::store
