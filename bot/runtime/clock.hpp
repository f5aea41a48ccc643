// Time as the runtime sees it. policy/ never calls a clock: the runtime asks one and passes the
// time in. Tests use manual_clock and move it by hand; nothing sleeps to wait for a deadline.
#pragma once

#include <chrono>

namespace flare {

using sys_seconds = std::chrono::sys_seconds;

class clock {
 public:
  virtual ~clock() = default;
  virtual sys_seconds now() const = 0;
};

class system_clock final : public clock {
 public:
  sys_seconds now() const override {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

class manual_clock final : public clock {
 public:
  explicit manual_clock(sys_seconds start) : now_(start) {}
  sys_seconds now() const override { return now_; }
  void set(sys_seconds t) { now_ = t; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  sys_seconds now_;
};

}  // namespace flare
