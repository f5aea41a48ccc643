#include "commands/grammar.hpp"

#include <gtest/gtest.h>

#include "policy/rfc3339.hpp"

namespace flare::commands {
namespace {

template <class T>
T parsed(std::string_view text) {
  auto r = parse_incident_command(text);
  if (auto* e = std::get_if<usage_error>(&r)) {
    ADD_FAILURE() << "\"" << text << "\" was refused: " << e->problem;
    return T{};
  }
  auto& command = std::get<parsed_command>(r);
  if (!std::holds_alternative<T>(command)) {
    ADD_FAILURE() << "\"" << text << "\" parsed as another subcommand (index " << command.index() << ")";
    return T{};
  }
  return std::get<T>(command);
}

// ---- bad input: every row must give a usage error naming the problem and the right usage ----

struct bad_input {
  std::string_view text;
  std::string_view problem_contains;
  std::string_view usage_contains;  // the usage line expected (or a line of the full usage)
};

class grammar_bad_input : public ::testing::TestWithParam<bad_input> {};

TEST_P(grammar_bad_input, is_a_usage_error_naming_the_problem) {
  const auto& row = GetParam();
  auto r = parse_incident_command(row.text);
  ASSERT_TRUE(std::holds_alternative<usage_error>(r)) << "accepted: \"" << row.text << "\"";
  const auto& e = std::get<usage_error>(r);
  EXPECT_NE(e.problem.find(row.problem_contains), std::string::npos)
      << "problem: " << e.problem << "\nexpected it to contain: " << row.problem_contains;
  EXPECT_NE(e.usage.find(row.usage_contains), std::string::npos)
      << "usage: " << e.usage << "\nexpected it to contain: " << row.usage_contains;
}

INSTANTIATE_TEST_SUITE_P(
    table, grammar_bad_input,
    ::testing::Values(
        bad_input{"", "missing a subcommand", "/incident list [open|all]"},
        bad_input{"   ", "missing a subcommand", "/incident open <title> [sensitive]"},
        bad_input{"frobnicate INC-1", "unknown subcommand \"frobnicate\"", "/incident decide <ID>"},
        bad_input{"open", "missing the title", "/incident open <title> [sensitive]"},
        bad_input{"open sensitive", "missing the title", "/incident open <title> [sensitive]"},
        bad_input{"classify", "missing the incident ID", "/incident classify <ID>"},
        bad_input{"classify INC-x high confirmed", "\"INC-x\" is not an incident ID",
                  "/incident classify <ID>"},
        bad_input{"classify 0 high confirmed", "\"0\" is not an incident ID", "/incident classify"},
        bad_input{"classify INC-1", "missing the severity", "critical|high|medium|low"},
        bad_input{"classify INC-1 severe confirmed", "\"severe\" is not a severity",
                  "critical|high|medium|low"},
        bad_input{"classify INC-1 high", "missing the classification", "confirmed|potential"},
        bad_input{"classify INC-1 high maybe", "\"maybe\" is not a classification", "confirmed|potential"},
        bad_input{"classify INC-1 high confirmed confirmed-at=yesterday",
                  "confirmed-at: expected an RFC 3339", "[confirmed-at=<time>]"},
        bad_input{"classify INC-1 high confirmed confirmed-at=2026-11-20T10:00:00",
                  "got \"2026-11-20T10:00:00\"", "[confirmed-at=<time>]"},
        bad_input{"classify INC-1 high confirmed soon", "unexpected \"soon\"", "[confirmed-at=<time>]"},
        bad_input{"classify INC-1 high confirmed confirmed-at=2026-11-20T10:00:00Z extra",
                  "unexpected \"extra\"", "/incident classify"},
        bad_input{"facts", "missing the incident ID", "/incident facts <ID> <key>=<value>"},
        bad_input{"facts INC-1", "missing the facts to set", "/incident facts <ID> <key>=<value>"},
        bad_input{"facts INC-1 fix_available", "expected <key>=<value>, got \"fix_available\"",
                  "/incident facts"},
        bad_input{"facts INC-1 fix_available=true exploited", "got \"exploited\"", "/incident facts"},
        bad_input{"facts INC-1 =true", "without a key", "/incident facts"},
        bad_input{"facts INC-1 fix_availible=true", "fix_availible: unknown fact", "/incident facts"},
        bad_input{"facts INC-1 fix_available=yes", "fix_available: expected true or false",
                  "/incident facts"},
        bad_input{"facts INC-1 users_affected=maybe", "users_affected: expected one of", "/incident facts"},
        bad_input{"facts INC-1 legal_requirements=\"CCPA",
                  "legal_requirements: the quoted value has no closing", "/incident facts"},
        bad_input{"facts INC-1 legal_requirements=\"CCPA\"x", "expected a space after the closing",
                  "/incident facts"},
        bad_input{"facts INC-1 legal_requirements=CC\"PA", "must be quoted as a whole", "/incident facts"},
        bad_input{"facts INC-1 impact_confirmed_at=2026-13-01T00:00:00Z",
                  "impact_confirmed_at: expected an RFC 3339", "/incident facts"},
        bad_input{"notified", "missing the incident ID", "/incident notified <ID>"},
        bad_input{"notified INC-1 twice", "unexpected \"twice\"", "/incident notified <ID>"},
        bad_input{"notified INC-1 at=yesterday", "at: expected an RFC 3339 time",
                  "/incident notified <ID> [at=<time>]"},
        bad_input{"done", "missing the incident ID", "/incident done <ID> <obligation>"},
        bad_input{"done INC-1", "missing the obligation", "/incident done <ID> <obligation>"},
        bad_input{"done INC-1 bulletin at=2026-11-30T14:00", "at: expected an RFC 3339", "/incident done"},
        bad_input{"done INC-1 bulletin link=blog.example", "link: expected an http(s):// address",
                  "/incident done"},
        bad_input{"done INC-1 bulletin by=U1", "unknown option \"by\"", "/incident done"},
        bad_input{"done INC-1 bulletin note=a note=b", "note= is given twice", "/incident done"},
        bad_input{"done INC-1 bulletin soon", "unexpected \"soon\"", "/incident done"},
        bad_input{"done INC-1 bul*letin", "is not a obligation name", "/incident done"},
        bad_input{"not-needed INC-1 bulletin", "missing the reason",
                  "/incident not-needed <ID> <obligation> reason=<text>"},
        bad_input{"not-needed INC-1 bulletin reason=\"\"", "missing the reason", "/incident not-needed"},
        bad_input{"kind INC-1", "missing the kind", "/incident kind <ID> <security|people>"},
        bad_input{"kind INC-1 hr", "\"hr\" is not a kind", "/incident kind <ID> <security|people>"},
        bad_input{"call INC-1 exception_vs_customer_clock", "missing the option",
                  "/incident call <ID> <conflict> <option>"},
        bad_input{"deadlines INC-1", "unexpected \"INC-1\"", "/incident deadlines"},
        bad_input{"resolve INC-1 duplicate-of=", "duplicate-of: missing the surviving incident's ID",
                  "/incident resolve"},
        bad_input{"resolve INC-1 duplicate-of=INC-x", "duplicate-of: \"INC-x\" is not an incident ID",
                  "/incident resolve"},
        bad_input{"resolve INC-1 duplicate-of=INC-1", "cannot be a duplicate of itself", "/incident resolve"},
        bad_input{"update INC-1", "missing the update text", "/incident update <ID> <text>"},
        bad_input{"update please", "\"please\" is not an incident ID", "/incident update <ID> <text>"},
        bad_input{"resolve", "missing the incident ID", "/incident resolve <ID> [resolved|not-an-incident"},
        bad_input{"show", "missing the incident ID", "/incident show <ID>"},
        bad_input{"show INC-1 INC-2", "unexpected \"INC-2\"", "/incident show <ID>"},
        bad_input{"decide INC-", "\"INC-\" is not an incident ID", "/incident decide <ID>"},
        bad_input{"list closed", "\"closed\" is not a list filter", "/incident list [open|all]"},
        bad_input{"list all open", "unexpected \"open\"", "/incident list [open|all]"}));

TEST(grammar, unknown_subcommand_lists_every_usage_line) {
  auto r = parse_incident_command("close INC-1");
  ASSERT_TRUE(std::holds_alternative<usage_error>(r));
  const auto& e = std::get<usage_error>(r);
  for (auto sub :
       {"open", "classify", "facts", "notified", "update", "resolve", "show", "list", "decide", "help"}) {
    EXPECT_NE(e.usage.find(usage_line(sub)), std::string::npos) << sub;
  }
}

TEST(grammar, usage_names_the_command_as_configured) {
  auto r = parse_incident_command("show", "/sec");
  ASSERT_TRUE(std::holds_alternative<usage_error>(r));
  EXPECT_EQ(std::get<usage_error>(r).usage, "/sec show <ID>");
}

// ---- good input -------------------------------------------------------------------------------

TEST(grammar, open_takes_the_rest_as_title_and_a_trailing_sensitive_flag) {
  auto o = parsed<open_command>("open  Leaked API key in CI logs ");
  EXPECT_EQ(o.title, "Leaked API key in CI logs");
  EXPECT_FALSE(o.sensitive);

  o = parsed<open_command>("open Payroll export on a public share Sensitive");
  EXPECT_EQ(o.title, "Payroll export on a public share");
  EXPECT_TRUE(o.sensitive);

  // "sensitive" elsewhere is part of the title.
  o = parsed<open_command>("open sensitive data in logs");
  EXPECT_EQ(o.title, "sensitive data in logs");
  EXPECT_FALSE(o.sensitive);
}

TEST(grammar, titles_and_texts_are_decoded_from_slack_escaping) {
  auto o = parsed<open_command>(
      "open a &lt;b&gt; &amp;&amp; c seen by <@U123|alice> in <#C9|ops> via <!subteam^S1|@sec>");
  EXPECT_EQ(o.title, "a <b> && c seen by @alice in #ops via @sec");

  auto u = parsed<update_command>(
      "update INC-3 see <https://example.com/x|the log> and <mailto:a@b.c|a@b.c>, <!here>");
  EXPECT_EQ(u.incident_id, 3);
  EXPECT_EQ(u.text, "see https://example.com/x and a@b.c, @here");

  EXPECT_EQ(decode_slack_text("&amp;lt;"), "&lt;");  // decoded once, not twice
  EXPECT_EQ(decode_slack_text("<@U42>"), "@U42");
}

TEST(grammar, incident_ids_accept_the_three_spellings) {
  EXPECT_EQ(parsed<show_command>("show INC-7").incident_id, 7);
  EXPECT_EQ(parsed<show_command>("show inc-7").incident_id, 7);
  EXPECT_EQ(parsed<show_command>("SHOW 7").incident_id, 7);
}

TEST(grammar, classify_reads_severity_classification_and_confirmed_at) {
  auto c = parsed<classify_command>("classify INC-2 High CONFIRMED");
  EXPECT_EQ(c.incident_id, 2);
  EXPECT_EQ(c.severity, policy::severity::high);
  EXPECT_EQ(c.classification, policy::classification::confirmed);
  EXPECT_FALSE(c.confirmed_at);

  c = parsed<classify_command>("classify 2 medium potential confirmed-at=2026-11-20T11:00:00+01:00");
  EXPECT_EQ(c.classification, policy::classification::potential);
  ASSERT_TRUE(c.confirmed_at);
  EXPECT_EQ(policy::format_rfc3339(*c.confirmed_at), "2026-11-20T10:00:00Z");
}

TEST(grammar, facts_reads_pairs_with_quoted_values_in_order) {
  auto f = parsed<facts_command>(
      "facts INC-4 fix_available=true legal_requirements=\"California breach law, GDPR art. 33\" "
      "customers=paid,free impact_confirmed_at=");
  EXPECT_EQ(f.incident_id, 4);
  std::vector<fact_assignment> expected{{"fix_available", "true"},
                                        {"legal_requirements", "California breach law, GDPR art. 33"},
                                        {"customers", "paid,free"},
                                        {"impact_confirmed_at", ""}};
  EXPECT_EQ(f.assignments, expected);

  f = parsed<facts_command>("facts 4 legal_requirements=\"A &amp; B\"");
  ASSERT_EQ(f.assignments.size(), 1u);
  EXPECT_EQ(f.assignments[0].value, "A & B");
}

TEST(grammar, resolve_summary_is_optional) {
  auto r = parsed<resolve_command>("resolve INC-5");
  EXPECT_EQ(r.incident_id, 5);
  EXPECT_FALSE(r.summary);
  r = parsed<resolve_command>("resolve INC-5 key rotated, &lt;no&gt; misuse found");
  ASSERT_TRUE(r.summary);
  EXPECT_EQ(*r.summary, "key rotated, <no> misuse found");
}

TEST(grammar, resolve_reads_an_optional_close_reason_before_the_summary) {
  auto r = parsed<resolve_command>("resolve INC-5 false-positive the alert was a test");
  EXPECT_EQ(r.reason, close_reason::false_positive);
  ASSERT_TRUE(r.summary);
  EXPECT_EQ(*r.summary, "the alert was a test");
  EXPECT_EQ(parsed<resolve_command>("resolve 5 not-an-incident").reason, close_reason::not_an_incident);
  EXPECT_EQ(parsed<resolve_command>("resolve 5 resolved all good").reason, close_reason::resolved);
  r = parsed<resolve_command>("resolve INC-5 duplicate-of=INC-3 same phishing mail");
  EXPECT_EQ(r.reason, close_reason::duplicate);
  EXPECT_EQ(r.duplicate_of, 3);
  EXPECT_EQ(*r.summary, "same phishing mail");
  r = parsed<resolve_command>("resolve INC-5 duplicate inc-3");
  EXPECT_EQ(r.duplicate_of, 3);
  EXPECT_FALSE(r.summary);
  // A summary that does not start with a reason is still a summary, with reason "resolved".
  r = parsed<resolve_command>("resolve INC-5 key rotated");
  EXPECT_EQ(r.reason, close_reason::resolved);
  EXPECT_EQ(*r.summary, "key rotated");
}

TEST(grammar, classify_and_facts_take_a_confirm_flag_anywhere) {
  EXPECT_FALSE(parsed<classify_command>("classify INC-2 high confirmed").confirm);
  auto c = parsed<classify_command>("classify INC-2 low confirmed --confirm");
  EXPECT_TRUE(c.confirm);
  EXPECT_EQ(c.severity, policy::severity::low);
  c = parsed<classify_command>("classify --confirm INC-2 high confirmed confirmed-at=2026-11-20T10:00:00Z");
  EXPECT_TRUE(c.confirm);
  EXPECT_TRUE(c.confirmed_at);
  auto f = parsed<facts_command>(
      "facts INC-4 --confirm impact_confirmed_at= legal_requirements=\"a --confirm b\"");
  EXPECT_TRUE(f.confirm);
  ASSERT_EQ(f.assignments.size(), 2u);
  EXPECT_EQ(f.assignments[1].value, "a --confirm b");  // inside quotes it is text
}

TEST(grammar, done_reads_the_obligation_time_and_evidence) {
  auto d = parsed<done_command>(
      "done INC-7 Bulletin at=2026-11-30T14:00:00Z link=<https://blog.example/sec-1|the post> note=\"went "
      "out late\"");
  EXPECT_EQ(d.incident_id, 7);
  EXPECT_EQ(d.obligation, "bulletin");
  ASSERT_TRUE(d.options.at);
  EXPECT_EQ(policy::format_rfc3339(*d.options.at), "2026-11-30T14:00:00Z");
  EXPECT_EQ(d.options.link, "https://blog.example/sec-1");
  EXPECT_EQ(d.options.note, "went out late");
  d = parsed<done_command>("done 7 resolution-message");
  EXPECT_EQ(d.obligation, "resolution-message");  // the checklist resolves aliases
  EXPECT_FALSE(d.options.at);
  auto n = parsed<notified_command>("notified INC-8 at=2026-11-30T13:00:00+01:00");
  ASSERT_TRUE(n.options.at);
  EXPECT_EQ(policy::format_rfc3339(*n.options.at), "2026-11-30T12:00:00Z");
}

TEST(grammar, not_needed_kind_call_and_deadlines) {
  auto nn =
      parsed<not_needed_command>("not-needed INC-7 free_tier_email reason=\"no free-tier apps affected\"");
  EXPECT_EQ(nn.obligation, "free_tier_email");
  EXPECT_EQ(nn.reason, "no free-tier apps affected");
  EXPECT_EQ(parsed<kind_command>("kind INC-7 people").kind, "people_and_safety");
  EXPECT_EQ(parsed<kind_command>("kind 7 Security").kind, "security");
  auto call = parsed<call_command>(
      "call INC-7 exception_vs_customer_clock follow_saas_schedule note=\"legal agreed\"");
  EXPECT_EQ(call.conflict, "exception_vs_customer_clock");
  EXPECT_EQ(call.option, "follow_saas_schedule");
  EXPECT_EQ(call.note, "legal agreed");
  parsed<deadlines_command>("deadlines");
}

TEST(grammar, list_defaults_to_open) {
  EXPECT_EQ(parsed<list_command>("list").filter, list_filter::open);
  EXPECT_EQ(parsed<list_command>("list open").filter, list_filter::open);
  EXPECT_EQ(parsed<list_command>("list ALL").filter, list_filter::all);
}

TEST(grammar, simple_subcommands) {
  EXPECT_EQ(parsed<notified_command>("notified INC-8").incident_id, 8);
  EXPECT_EQ(parsed<decide_command>("decide inc-9").incident_id, 9);
  parsed<help_command>("help");
}

// ---- untrusted bytes (issue 13): a terminal can type anything ----

TEST(grammar, invalid_utf8_in_a_fact_value_is_a_usage_error_not_an_exception) {
  parse_result r = usage_error{};
  ASSERT_NO_THROW(r = parse_incident_command("facts INC-1 severity=\xFF\xFE"));
  ASSERT_TRUE(std::holds_alternative<usage_error>(r));
  const auto& e = std::get<usage_error>(r);
  EXPECT_NE(e.problem.find("\xEF\xBF\xBD"), std::string::npos) << e.problem;  // shown as U+FFFD
  ASSERT_NO_THROW(
      (void)parse_incident_command("facts INC-1 customers=\xC3\x28 legal_requirements=\xED\xA0\x80"));
  ASSERT_NO_THROW((void)parse_incident_command("open \xFF\xFF title"));
}

}  // namespace
}  // namespace flare::commands
