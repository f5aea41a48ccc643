// Legal notification regimes as data: who must be told, within what time, from what event. The
// disclosure policy (introduction, paragraph 3) says legal disclosure requirements take
// precedence over it; each `legal_requirements` fact names a regime from this table and becomes
// a checklist item. Defaults ship here; config may add or override regimes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tables.hpp"

namespace flare::policy {

// struct legal_regime and legal_regime_table are in tables.hpp (the tables carry them).

// GDPR Art. 33 (72 h) and Art. 34 (without undue delay), UK GDPR Art. 33 (72 h), NIS2 Art. 23
// early warning (24 h) and notification (72 h), DORA major ICT incident initial notification
// (4 h after classification, at most 24 h after detection: 24 h here), HIPAA breach notice to
// individuals (60 days), NYDFS 23 NYCRR 500.17 (72 h), SEC Form 8-K Item 1.05 (4 business days),
// California Civil Code 1798.82 (without unreasonable delay), Australia NDB (30 days to assess),
// Canada PIPEDA (as soon as feasible).
// (Declared in tables.hpp.)

// Exact key match, case-insensitive; nullptr if unknown.
const legal_regime* find_regime(const legal_regime_table& table, std::string_view key);

// Throws tables_error naming the regime for an empty key, a duplicate key, an empty title, a key
// with spaces (it must be typeable in `legal=`) or a clock that is not positive.
void validate(const legal_regime_table& table);

}  // namespace flare::policy
