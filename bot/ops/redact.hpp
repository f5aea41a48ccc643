// Secrets never reach a log line: every sink is wrapped so Slack tokens are masked before the
// text is written, whatever code produced it.
#pragma once

#include <spdlog/common.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog::sinks {
class sink;
}

namespace flare {

// Replaces every Slack token (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xapp- ...) in `text` with its
// prefix and "***", e.g. "xoxb-***". Also masks the exact `extra_secrets` given.
std::string redact_secrets(std::string_view text, const std::vector<std::string>& extra_secrets = {});

// A sink that redacts each message and forwards it to `inner`.
std::shared_ptr<spdlog::sinks::sink> make_redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner,
                                                         std::vector<std::string> extra_secrets = {});

// Installs the default logger: stderr, redacted, at `level` ("trace".."off").
void install_logger(const std::string& level, std::vector<std::string> extra_secrets = {});

}  // namespace flare
