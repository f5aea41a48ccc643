#!/usr/bin/env bash
# Sets everything up, builds, and runs the bot. With no Slack tokens in the environment it runs
# on its embedded defaults: the console adapter and a local SQLite file (./data/flare.db).
# Arguments are passed to flare, e.g. `scripts/run.sh check-config flare.toml`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec ./build/bot/flare "$@"
