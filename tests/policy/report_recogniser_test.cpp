#include "policy/report_recogniser.hpp"

#include <gtest/gtest.h>

namespace flare::policy {
namespace {
TEST(report_recogniser, placeholder) {}
}  // namespace
}  // namespace flare::policy
