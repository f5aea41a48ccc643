#!/usr/bin/env bash
# Installs the Debian 12 packages flare builds and tests with, skipping what is already there.
# Needs root (or sudo); does nothing when every package is present.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev openssl ca-certificates
  nlohmann-json3-dev libspdlog-dev libsqlite3-dev sqlite3
  libpq-dev postgresql-15
  libtomlplusplus-dev libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus-cpp-dev libyaml-cpp-dev yamllint
  libcairo2-dev
  clang-format clang-tidy python3
  # scripts/fuzz.sh: clang with libFuzzer (libclang-rt), llvm-symbolizer for sanitizer stacks
  clang libclang-rt-14-dev llvm
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
echo "setup: installing ${missing[*]}" >&2
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
