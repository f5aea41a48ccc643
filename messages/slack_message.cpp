#include "messages/slack_message.hpp"

#include <cstdint>
#include <cstdio>
#include <set>

#include "messages/blocks.hpp"

namespace flare::messages {
namespace {

// docs/slack.md §5.5, "Message size / Block Kit limits".
constexpr std::size_t max_blocks = 50;
constexpr std::size_t max_section_text = 3000;
constexpr std::size_t max_header_text = 150;
constexpr std::size_t max_fields = 10;
constexpr std::size_t max_table_rows = 100;
constexpr std::size_t max_table_cells = 20;
constexpr std::size_t max_field_text = 2000;
constexpr std::size_t max_context_elements = 10;
constexpr std::size_t max_button_text = 75;
constexpr std::size_t max_fallback_text = 4000;
constexpr std::size_t max_block_id_name = 200;  // leaves room for the content hash (limit 255)

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += continuation_byte(c) ? 0 : 1;
  return n;
}

// Byte offset just past the first `n` code points of `s`.
std::size_t prefix_bytes(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if (!continuation_byte(s[i])) {
      if (n == 0) break;
      --n;
    }
  }
  return i;
}

// A cut must not leave half an entity ("&am") or half a <…> token ("<@U12"): Slack would show
// the fragment literally. User text is escaped, so every '<' left in the text opens our token.
std::size_t back_off_tokens(std::string_view s) {
  const auto lt = s.rfind('<');
  if (lt != std::string_view::npos && s.find('>', lt) == std::string_view::npos) s = s.substr(0, lt);
  const auto amp = s.rfind('&');
  if (amp != std::string_view::npos && s.size() - amp < 8 && s.find(';', amp) == std::string_view::npos)
    s = s.substr(0, amp);
  return s.size();
}

std::string truncate(std::string_view s, std::size_t max) {
  if (code_points(s) <= max) return std::string{s};
  std::string_view kept = s.substr(0, prefix_bytes(s, max - 1));
  kept = kept.substr(0, back_off_tokens(kept));
  return std::string{kept} + "…";
}

void truncate_text(nlohmann::json& text_object, std::size_t max) {
  if (!text_object.is_object() || !text_object.contains("text")) return;
  auto& text = text_object["text"];
  if (!text.is_string()) return;
  // Slack rejects an empty text object (section text is 1..3000).
  if (text.get_ref<const std::string&>().empty()) text = " ";
  text = truncate(text.get_ref<const std::string&>(), max);
}

void limit_block(nlohmann::json& block) {
  const std::string type = block.value("type", "");
  if (type == "header") {
    truncate_text(block["text"], max_header_text);
  } else if (type == "section") {
    if (block.contains("text")) truncate_text(block["text"], max_section_text);
    if (block.contains("fields")) {
      auto& fields = block["fields"];
      if (fields.size() > max_fields) fields.erase(fields.begin() + max_fields, fields.end());
      for (auto& f : fields) truncate_text(f, max_field_text);
    }
  } else if (type == "context") {
    auto& elements = block["elements"];
    if (elements.size() > max_context_elements)
      elements.erase(elements.begin() + max_context_elements, elements.end());
    for (auto& e : elements) truncate_text(e, max_field_text);
  } else if (type == "actions") {
    for (auto& e : block["elements"])
      if (e.value("type", "") == "button") truncate_text(e["text"], max_button_text);
  } else if (type == "table") {
    // docs/slack.md §5.5: at most 100 rows of at most 20 cells, and as many column settings.
    auto& rows = block["rows"];
    if (rows.is_array() && rows.size() > max_table_rows)
      rows.erase(rows.begin() + max_table_rows, rows.end());
    for (auto& row : rows)
      if (row.is_array() && row.size() > max_table_cells) row.erase(row.begin() + max_table_cells, row.end());
    if (block.contains("column_settings") && block["column_settings"].is_array()) {
      auto& settings = block["column_settings"];
      if (settings.size() > max_table_cells)
        settings.erase(settings.begin() + max_table_cells, settings.end());
    }
  }
}

// FNV-1a: a stable hash across builds, so the same content always gets the same block id.
std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

bool is_hex8(std::string_view s) {
  return s.size() == 8 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The name a block_id was built from: "card.1a2b3c4d.3" -> "card", so limits can be applied
// again (by a caller that adds blocks) without ids growing.
std::string base_name(std::string id) {
  auto dot = id.rfind('.');
  if (dot != std::string::npos && dot + 1 < id.size() &&
      id.find_first_not_of("0123456789", dot + 1) == std::string::npos && dot >= 9 && id[dot - 9] == '.' &&
      is_hex8(std::string_view{id}.substr(dot - 8, 8)))
    id.erase(dot);
  dot = id.rfind('.');
  if (dot != std::string::npos && is_hex8(std::string_view{id}.substr(dot + 1))) id.erase(dot);
  return id;
}

// block_id: "<name>.<content hash>", unique within the message. The hash gives an edited block
// a new id, as Slack asks for on chat.update (docs/slack.md §5.5).
void assign_block_ids(nlohmann::json& blocks) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    auto& block = blocks[i];
    std::string name = base_name(block.value("block_id", ""));
    if (name.empty()) name = "b" + std::to_string(i);
    name = name.substr(0, max_block_id_name);
    block.erase("block_id");
    char hash[16];
    std::snprintf(hash, sizeof hash, ".%08x", static_cast<unsigned>(fnv1a(block.dump())));
    std::string id = name + hash;
    if (seen.count(id)) id += "." + std::to_string(i);
    seen.insert(id);
    block["block_id"] = id;
  }
}

std::string first_text(const nlohmann::json& blocks) {
  for (const auto& block : blocks)
    if (block.contains("text") && block["text"].is_object()) return block["text"].value("text", "");
  return {};
}

}  // namespace

std::string escape(std::string_view user_text) {
  std::string out;
  out.reserve(user_text.size());
  for (char c : user_text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string user_mention(std::string_view user_id) { return "<@" + std::string{user_id} + ">"; }

std::string group_mention(std::string_view group_id) { return "<!subteam^" + std::string{group_id} + ">"; }

std::string utc_text(std::chrono::sys_seconds t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d UTC", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  return buf;
}

std::string slack_date(std::chrono::sys_seconds t) {
  return "<!date^" + std::to_string(t.time_since_epoch().count()) + "^{date_short_pretty} {time}|" +
         utc_text(t) + ">";
}

slack_message enforce_limits(slack_message m) {
  if (!m.blocks.is_array()) m.blocks = nlohmann::json::array();
  if (m.blocks.size() > max_blocks) {
    const std::size_t omitted = m.blocks.size() - (max_blocks - 1);
    m.blocks.erase(m.blocks.begin() + (max_blocks - 1), m.blocks.end());
    m.blocks.push_back(
        blocks::context("omitted", {"… " + std::to_string(omitted) + " more block" +
                                    (omitted == 1 ? "" : "s") + " omitted (Slack shows at most 50)."}));
  }
  for (auto& block : m.blocks) limit_block(block);
  assign_block_ids(m.blocks);
  // The fallback is what notifications show: never send a message without one.
  if (m.text.empty()) m.text = first_text(m.blocks);
  if (m.text.empty() || m.text == " ") m.text = "flare";
  m.text = truncate(m.text, max_fallback_text);
  return m;
}

nlohmann::json as_command_reply(const slack_message& m, bool in_channel) {
  return {{"response_type", in_channel ? "in_channel" : "ephemeral"}, {"text", m.text}, {"blocks", m.blocks}};
}

nlohmann::json as_post_body(const slack_message& m) { return {{"text", m.text}, {"blocks", m.blocks}}; }

}  // namespace flare::messages
