// Internals of pg_store: RAII for libpq, text-format parameters, and result rows readable by the
// shared row readers (store_rows.hpp). Not for use outside bot/store/.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/store/store.hpp"

namespace flare::store::pg_detail {

struct connection_finish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using connection = std::unique_ptr<PGconn, connection_finish>;

struct result_clear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_clear>;

// Slack text is UTF-8, but a malformed byte must not make a store write throw.
inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Parameters travel as text; nullopt is SQL NULL.
class params {
 public:
  template <typename... Args>
  explicit params(const Args&... args) {
    values_.reserve(sizeof...(args));
    (add(args), ...);
  }
  // Values already in text form (a row copied from another store).
  static params from(std::vector<std::optional<std::string>> values) {
    params p;
    p.values_ = std::move(values);
    return p;
  }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
    return out;
  }

 private:
  void add(std::nullopt_t) { values_.emplace_back(std::nullopt); }
  void add(std::int64_t v) { values_.emplace_back(std::to_string(v)); }
  void add(int v) { values_.emplace_back(std::to_string(v)); }
  void add(std::size_t v) {
    // LIMIT takes a bigint: SIZE_MAX ("all") must not wrap to -1.
    values_.emplace_back(std::to_string(std::min<std::size_t>(v, INT64_MAX)));
  }
  void add(bool v) { values_.emplace_back(v ? "1" : "0"); }
  void add(sys_seconds v) { values_.emplace_back(std::to_string(v.time_since_epoch().count())); }
  void add(std::string_view v) { values_.emplace_back(std::string(v)); }
  void add(const std::string& v) { values_.emplace_back(v); }
  void add(const char* v) { values_.emplace_back(std::string(v)); }
  void add(const json& v) { values_.emplace_back(dump(v)); }
  template <typename T>
  void add(const std::optional<T>& v) {
    if (v) {
      add(*v);
    } else {
      add(std::nullopt);
    }
  }
  std::vector<std::optional<std::string>> values_;
};

// One row of a result, read the way store_rows.hpp expects.
class row {
 public:
  row(const PGresult* r, int n) : r_(r), n_(n) {}
  bool is_null(int i) const { return PQgetisnull(r_, n_, i) != 0; }
  std::string text(int i) const {
    return std::string(PQgetvalue(r_, n_, i), static_cast<std::size_t>(PQgetlength(r_, n_, i)));
  }
  std::int64_t int64(int i) const { return std::stoll(text(i)); }
  std::optional<std::string> opt_text(int i) const {
    if (is_null(i)) return std::nullopt;
    return text(i);
  }
  std::optional<std::int64_t> opt_int64(int i) const {
    if (is_null(i)) return std::nullopt;
    return int64(i);
  }
  sys_seconds time(int i) const { return sys_seconds{std::chrono::seconds{int64(i)}}; }
  std::optional<sys_seconds> opt_time(int i) const {
    if (is_null(i)) return std::nullopt;
    return time(i);
  }
  json json_value(int i) const { return json::parse(text(i)); }
  std::optional<json> opt_json(int i) const {
    if (is_null(i)) return std::nullopt;
    return json_value(i);
  }

 private:
  const PGresult* r_;
  int n_;
};

// A finished statement: its rows and how many rows it changed.
class result {
 public:
  explicit result(result_ptr r) : r_(std::move(r)) {}
  int rows() const { return PQntuples(r_.get()); }
  row at(int n) const { return row(r_.get(), n); }
  std::size_t changes() const {
    const char* n = PQcmdTuples(r_.get());
    return (n && *n) ? static_cast<std::size_t>(std::stoull(n)) : 0;
  }

 private:
  result_ptr r_;
};

}  // namespace flare::store::pg_detail
