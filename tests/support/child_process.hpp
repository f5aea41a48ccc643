// Runs a program as a child process for end-to-end tests: the real `flare` binary, with the
// environment a user would give it, its output captured, every wait bounded.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace flare::testing {

class child_process {
 public:
  // Starts `program` with `args`; the environment is exactly `env` plus PATH and TZ.
  // `stdin_text` is written to its standard input, which is then closed unless `keep_stdin_open`.
  child_process(const std::string& program, const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env, const std::string& stdin_text = "",
                bool keep_stdin_open = false);
  ~child_process();  // kills the child if it still runs
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  void signal(int sig);
  void write_stdin(const std::string& text);
  void close_stdin();
  // Waits for the child to exit; returns its exit code, or -1 on timeout (it is then killed),
  // or 128+signal if a signal ended it.
  int wait(std::chrono::milliseconds timeout);
  // Polls output until `text` appears in stdout+stderr or the timeout passes.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout);
  std::string output();  // stdout and stderr so far, interleaved as read
  int pid() const { return pid_; }

 private:
  void pump(std::chrono::milliseconds timeout);
  int pid_ = -1;
  int stdin_fd_ = -1;
  int output_fd_ = -1;
  int exit_code_ = -2;
  std::string output_;
};

}  // namespace flare::testing
