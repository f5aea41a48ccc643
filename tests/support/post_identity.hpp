// Recognising the same Slack post twice, for the tests and benchmarks that count doubled posts
// across replicas: a post re-sent after a crash carries the outbox's re-send marker
// (bot/runtime/outbox.cpp) and is otherwise the same post.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace flare::testing {

inline const std::string resent_marker = "Re-sent after a restart";

inline bool marked_resent(const nlohmann::json& body) {
  return body.dump().find(resent_marker) != std::string::npos;
}

// What makes a post the post it is (where it went and what it says), without the re-send marker.
inline std::string post_identity(const nlohmann::json& body) {
  nlohmann::json blocks = nlohmann::json::array();
  if (body.contains("blocks")) {
    nlohmann::json b = body["blocks"];
    if (b.is_string()) b = nlohmann::json::parse(b.get<std::string>(), nullptr, false);
    if (b.is_array())
      for (const auto& block : b)
        if (block.dump().find(resent_marker) == std::string::npos) blocks.push_back(block);
  }
  return body.value("channel", "") + "|" + body.value("thread_ts", "") + "|" + body.value("text", "") + "|" +
         blocks.dump();
}

}  // namespace flare::testing
