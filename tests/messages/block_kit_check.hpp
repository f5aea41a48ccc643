// Checks a message against the Block Kit rules every flare message must keep (docs/slack.md
// §5.5), and small helpers to look into the JSON. Used by every messages test.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "messages/slack_message.hpp"
#include "policy/business_calendar.hpp"
#include "policy/disclosure.hpp"
#include "policy/rfc3339.hpp"

namespace flare::messages::testing {

inline std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// A text object's text; for an element holding one (a button), that object's text.
inline std::string text_of(const nlohmann::json& text_object) {
  if (!text_object.is_object() || !text_object.contains("text")) return {};
  const auto& t = text_object["text"];
  if (t.is_object()) return text_of(t);
  return t.is_string() ? t.get<std::string>() : std::string{};
}

// Every '<' in mrkdwn must open a token flare builds on purpose; any other is unescaped text.
inline void expect_only_known_tokens(std::string_view mrkdwn) {
  for (auto pos = mrkdwn.find('<'); pos != std::string_view::npos; pos = mrkdwn.find('<', pos + 1)) {
    const auto rest = mrkdwn.substr(pos);
    const bool known = rest.starts_with("<@U") || rest.starts_with("<@W") || rest.starts_with("<!date^") ||
                       rest.starts_with("<!subteam^");
    EXPECT_TRUE(known) << "unescaped '<' in: " << mrkdwn;
    EXPECT_NE(rest.find('>'), std::string_view::npos) << "unclosed token in: " << mrkdwn;
  }
  EXPECT_EQ(mrkdwn.find('>') == std::string_view::npos || mrkdwn.find('<') != std::string_view::npos, true)
      << "'>' without a token in: " << mrkdwn;
}

inline void expect_valid(const slack_message& m) {
  static const std::set<std::string> types{"header", "section", "context", "divider", "actions", "table"};
  int tables = 0;
  EXPECT_FALSE(m.text.empty()) << "fallback text missing";
  EXPECT_LE(code_points(m.text), 4000u);
  ASSERT_TRUE(m.blocks.is_array());
  EXPECT_GE(m.blocks.size(), 1u);
  EXPECT_LE(m.blocks.size(), 50u);
  expect_only_known_tokens(m.text);
  std::set<std::string> ids;
  for (const auto& b : m.blocks) {
    if (b.value("type", "") != "header") {
      if (b.contains("text")) expect_only_known_tokens(text_of(b["text"]));
      for (const char* list : {"fields", "elements"})
        if (b.contains(list))
          for (const auto& t : b[list]) expect_only_known_tokens(text_of(t));
    }
    const std::string type = b.value("type", "");
    EXPECT_TRUE(types.count(type)) << "unknown block type " << type;
    const std::string id = b.value("block_id", "");
    EXPECT_FALSE(id.empty());
    EXPECT_LE(id.size(), 255u);
    EXPECT_TRUE(ids.insert(id).second) << "duplicate block_id " << id;
    if (type == "header") {
      EXPECT_EQ(b["text"]["type"], "plain_text");
      EXPECT_LE(code_points(text_of(b["text"])), 150u);
    }
    if (type == "section") {
      EXPECT_TRUE(b.contains("text") || b.contains("fields"));
      if (b.contains("text")) {
        EXPECT_GE(code_points(text_of(b["text"])), 1u);
        EXPECT_LE(code_points(text_of(b["text"])), 3000u);
      }
      if (b.contains("fields")) {
        EXPECT_LE(b["fields"].size(), 10u);
        for (const auto& f : b["fields"]) EXPECT_LE(code_points(text_of(f)), 2000u);
      }
    }
    if (type == "context") EXPECT_LE(b["elements"].size(), 10u);
    if (type == "table") {
      // docs/slack.md §5.5: rows of raw_text (or rich_text) cells, at most 100 rows of 20 cells;
      // flare sends one table per message.
      ++tables;
      ASSERT_TRUE(b["rows"].is_array());
      EXPECT_GE(b["rows"].size(), 1u);
      EXPECT_LE(b["rows"].size(), 100u);
      for (const auto& row : b["rows"]) {
        ASSERT_TRUE(row.is_array());
        EXPECT_LE(row.size(), 20u);
        for (const auto& cell : row) {
          EXPECT_EQ(cell.value("type", ""), "raw_text");
          EXPECT_GE(code_points(cell.value("text", "")), 1u);
        }
      }
      if (b.contains("column_settings")) EXPECT_LE(b["column_settings"].size(), 20u);
    }
  }
  EXPECT_LE(tables, 1) << "one table block per message";
}

// Everything a reader can see: fallback text plus every text in every block.
inline std::string all_text(const slack_message& m) {
  std::string out = m.text + "\n";
  for (const auto& b : m.blocks) {
    if (b.contains("text")) out += text_of(b["text"]) + "\n";
    for (const char* list : {"fields", "elements"})
      if (b.contains(list))
        for (const auto& t : b[list]) out += text_of(t) + "\n";
  }
  return out;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

inline std::chrono::sys_seconds at(std::string_view rfc3339) { return *policy::parse_rfc3339(rfc3339); }

inline policy::decision decide(const policy::facts& f) {
  return policy::decide(f, policy::tables{}, policy::business_calendar{});
}

}  // namespace flare::messages::testing
