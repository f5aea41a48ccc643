#!/usr/bin/env bash
# Style checks: clang-format (.clang-format), clang-tidy (.clang-tidy) and the relative links of
# the Markdown documentation.
#
#   scripts/lint.sh                 lines changed since the merge-base with main (committed, staged,
#                                   unstaged and new files): format and tidy findings on those lines
#   scripts/lint.sh --base REF      the same against another base (e.g. origin/main, HEAD~3)
#   scripts/lint.sh --all           every C++ file: format of whole files, clang-tidy on every
#                                   translation unit (about 20-30 min on 2 cores)
#   scripts/lint.sh --ci            what CI runs (see below)
#   scripts/lint.sh --fix-format    reformat every C++ file in place and empty the pending list
#   --no-tidy / --no-format         skip one of the tools
#
# Findings are reported only on changed lines, so an edit is not blamed for the style of the
# lines around it. clang-tidy needs build/compile_commands.json (any configured build). The fuzz
# targets in tests/fuzz are built only with FLARE_FUZZ (scripts/fuzz.sh), so they are not in it:
# clang-tidy gives them the compile command of the nearest file that is (tests/..., same include
# path and defines; they include only flare headers and the standard library), and --all adds them
# to its list, so they are checked like every other file.
#
# CI (--ci) checks, on a fresh clone:
#   - the links in README.md, docs/*.md and policy/READINGS.md point at files that exist;
#   - clang-format on every C++ file except those in scripts/lint-format-pending.txt, the files
#     not yet put through the one-time reformat (`--fix-format` empties it). New files must be
#     formatted; a pending file that is already formatted must leave the list;
#   - clang-tidy on the lines changed by the commit under test (base: $FLARE_LINT_BASE when set,
#     else HEAD^; skipped on a clone without history), if it touches at most
#     $FLARE_LINT_MAX_TIDY_FILES (default 40) files: clang-tidy costs ~25 s of CPU per translation
#     unit here, so a whole-tree run does not fit CI's time budget.
# Exit status: 0 clean, 1 findings, 2 usage or setup problem.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=changed
base=""
do_format=1
do_tidy=1
while [ $# -gt 0 ]; do
  case "$1" in
    --all) mode=all ;;
    --ci) mode=ci ;;
    --fix-format) mode=fix ;;
    --base) base="${2:?--base needs a git revision}"; shift ;;
    --no-tidy) do_tidy=0 ;;
    --no-format) do_format=0 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lint: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

clang_format=$(command -v clang-format-14 || command -v clang-format || true)
clang_format_diff=$(command -v clang-format-diff-14 || command -v clang-format-diff || true)
clang_tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
clang_tidy_diff=$(command -v clang-tidy-diff-14.py || command -v clang-tidy-diff || true)
jobs="${FLARE_LINT_JOBS:-$(nproc)}"
pending_list=scripts/lint-format-pending.txt
failed=0

need() {
  if [ -z "$1" ]; then echo "lint: $2 not found (scripts/setup-debian.sh installs it)" >&2; exit 2; fi
}

all_cxx_files() { git ls-files '*.cpp' '*.hpp'; }

# --- Markdown links ---------------------------------------------------------------------------
check_links() {
  local bad
  bad=$(python3 - <<'EOF'
import os, re, subprocess
files = ["README.md", "policy/READINGS.md"] + sorted(
    f for f in subprocess.run(["git", "ls-files", "docs/*.md"], capture_output=True, text=True,
                              check=True).stdout.split() if f)
link = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
for f in files:
    if not os.path.exists(f):
        continue
    in_code = False
    for n, line in enumerate(open(f, encoding="utf-8"), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        for target in link.findall(line):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            resolved = os.path.normpath(os.path.join(os.path.dirname(f), path))
            if not os.path.exists(resolved):
                print(f"{f}:{n}: broken link {target}")
EOF
)
  if [ -n "$bad" ]; then echo "$bad"; failed=1; else echo "lint: documentation links ok"; fi
}

# --- clang-format -----------------------------------------------------------------------------
format_whole_files() {  # files...
  local f out=0
  for f in "$@"; do
    if ! "$clang_format" --dry-run --Werror "$f" 2>/dev/null; then
      echo "$f: not formatted (clang-format -i $f, or scripts/lint.sh --fix-format)"; out=1
    fi
  done
  return $out
}

format_changed_lines() {  # base
  local diff
  diff=$(git diff -U0 --no-color "$1" -- '*.cpp' '*.hpp' | "$clang_format_diff" -p1 -binary "$clang_format" || true)
  if [ -n "$diff" ]; then
    echo "$diff"
    echo "lint: clang-format would change the lines above (apply: git diff -U0 $1 | $clang_format_diff -p1 -i)"
    return 1
  fi
}

format_ci() {
  local f listed=() checked=() stale=()
  declare -A pending=()
  [ -f "$pending_list" ] && mapfile -t listed < <(grep -v '^\s*\(#\|$\)' "$pending_list")
  for f in "${listed[@]}"; do pending[$f]=1; done
  for f in $(all_cxx_files); do
    if [ -n "${pending[$f]:-}" ]; then
      "$clang_format" --dry-run --Werror "$f" 2>/dev/null && stale+=("$f")
    else
      checked+=("$f")
    fi
  done
  echo "lint: clang-format on ${#checked[@]} files (${#listed[@]} pending the one-time reformat)"
  local out=0
  format_whole_files "${checked[@]}" || out=1
  for f in "${stale[@]}"; do
    echo "$f: already formatted; remove it from $pending_list"; out=1
  done
  return $out
}

# --- clang-tidy -------------------------------------------------------------------------------
tidy_report() {  # reads clang-tidy output on stdin; fails on any warning or error
  # A finding in a header is reported once per translation unit that includes it: print each
  # finding (its line and the notes and source lines after it) once.
  local out
  out=$(python3 -c '
import re, sys
head = re.compile(r"^\S+:\d+:\d+: (warning|error):")
blocks, seen = [], set()
for line in sys.stdin.read().splitlines():
    if re.match(r"^\d+ warnings? (and \d+ errors? )?generated", line) or line.startswith("Suppressed "):
        continue
    if head.match(line) or not blocks:
        blocks.append([line])
    else:
        blocks[-1].append(line)
for b in blocks:
    if b[0] not in seen:
        seen.add(b[0])
        print("\n".join(b))
')
  if grep -qE ': (warning|error):' <<<"$out"; then
    echo "$out"
    echo "lint: clang-tidy: $(grep -cE '^\S+:[0-9]+:[0-9]+: (warning|error):' <<<"$out") finding(s)"
    return 1
  fi
  echo "lint: clang-tidy clean"
}

tidy_changed_lines() {  # base
  if [ ! -f build/compile_commands.json ]; then
    echo "lint: build/compile_commands.json missing; configure first (scripts/build.sh)" >&2; return 2
  fi
  git diff -U0 --no-color "$1" -- '*.cpp' '*.hpp' |
    "$clang_tidy_diff" -p1 -path build -j "$jobs" -quiet -clang-tidy-binary "$clang_tidy" \
      -iregex '.*\.(cpp|hpp)' 2>&1 | tidy_report
}

tidy_all() {
  if [ ! -f build/compile_commands.json ]; then
    echo "lint: build/compile_commands.json missing; configure first (scripts/build.sh)" >&2; return 2
  fi
  # Each source once (a few are compiled into two targets), and the fuzz targets (see the header).
  { python3 -c 'import json; [print(f) for f in sorted({e["file"] for e in json.load(open("build/compile_commands.json"))})]'
    git ls-files 'tests/fuzz/*.cpp'; } |
    xargs -P "$jobs" -n 1 "$clang_tidy" -p build --quiet 2>&1 | tidy_report
}

case "$mode" in
  fix)
    need "$clang_format" clang-format
    all_cxx_files | xargs "$clang_format" -i
    if [ -f "$pending_list" ]; then
      grep '^\s*#' "$pending_list" > "$pending_list.tmp" || true
      mv "$pending_list.tmp" "$pending_list"
    fi
    echo "lint: reformatted $(all_cxx_files | wc -l) files; $pending_list emptied"
    ;;
  all)
    check_links
    if [ $do_format = 1 ]; then need "$clang_format" clang-format; format_whole_files $(all_cxx_files) || failed=1; fi
    if [ $do_tidy = 1 ]; then need "$clang_tidy" clang-tidy; tidy_all || failed=1; fi
    ;;
  changed)
    if [ -z "$base" ]; then
      for b in main origin/main; do
        base=$(git merge-base HEAD "$b" 2>/dev/null) && break
      done
      [ -n "$base" ] || { echo "lint: no main or origin/main to compare with; use --base REF or --all" >&2; exit 2; }
    fi
    # New files count as changed: add them to the index as intent-to-add for the diff only.
    untracked=$(git ls-files --others --exclude-standard -- '*.cpp' '*.hpp')
    [ -n "$untracked" ] && git add --intent-to-add -- $untracked
    trap '[ -n "${untracked:-}" ] && git reset -q -- $untracked' EXIT
    files=$(git diff --name-only "$base" -- '*.cpp' '*.hpp')
    echo "lint: $(wc -w <<<"$files") changed C++ file(s) since $(git rev-parse --short "$base")"
    check_links
    if [ -n "$files" ]; then
      if [ $do_format = 1 ]; then need "$clang_format_diff" clang-format-diff; format_changed_lines "$base" || failed=1; fi
      if [ $do_tidy = 1 ]; then
        need "$clang_tidy" clang-tidy; need "$clang_tidy_diff" clang-tidy-diff
        tidy_changed_lines "$base" || failed=1
      fi
    fi
    ;;
  ci)
    check_links
    if [ $do_format = 1 ]; then need "$clang_format" clang-format; format_ci || failed=1; fi
    if [ $do_tidy = 1 ]; then
      need "$clang_tidy" clang-tidy; need "$clang_tidy_diff" clang-tidy-diff
      base="${base:-${FLARE_LINT_BASE:-HEAD^}}"
      if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
        echo "lint: no $base in this clone (shallow?); clang-tidy skipped"
      else
        n=$(git diff --name-only "$base" HEAD -- '*.cpp' '*.hpp' | wc -l)
        max="${FLARE_LINT_MAX_TIDY_FILES:-40}"
        if [ "$n" -gt "$max" ]; then
          echo "lint: $n C++ files changed since $base (over $max); clang-tidy skipped, run scripts/lint.sh --all by hand"
        elif [ "$n" -gt 0 ]; then
          echo "lint: clang-tidy on the lines $n C++ file(s) changed since $(git rev-parse --short "$base")"
          tidy_changed_lines "$base" || failed=1
        fi
      fi
    fi
    ;;
esac

if [ $failed = 0 ]; then echo "lint: ok"; else echo "lint: FAILED"; fi
exit $failed
