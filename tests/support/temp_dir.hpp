// A fresh directory under the system's temporary directory for one test, removed with everything
// in it when the test ends, so a test's store, config and logs never meet another test's (ctest
// runs tests in parallel) and nothing is left behind.
#pragma once

#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace flare::testing {

class temp_dir {
 public:
  // `prefix` names the test in the directory's name (e.g. "flare-e2e"), for whoever finds one
  // left by a killed run.
  explicit temp_dir(const std::string& prefix = "flare-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;  // a destructor must not throw; a leftover directory is harmless
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace flare::testing
