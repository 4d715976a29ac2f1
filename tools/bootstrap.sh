#!/usr/bin/env bash
# One entry point for a fresh machine or CI:
#
#   bash tools/bootstrap.sh quickstart [args...]  # pnpm clnrm run examples/quickstart.clnrm.toml
#   bash tools/bootstrap.sh test [args...]        # pnpm test (turbo)
#   bash tools/bootstrap.sh bench [args...]       # pnpm bench
#
# Sources tools/setup.sh first (Node 24, pnpm, Docker, test images, install + build).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-}
case $cmd in
  quickstart | test | bench) shift ;;
  -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bash tools/bootstrap.sh quickstart|test|bench [args...]" >&2; exit 2 ;;
esac

# shellcheck source=tools/setup.sh
source "$ROOT/tools/setup.sh" || exit 1
cd "$ROOT" || exit 1

case $cmd in
  quickstart) pnpm clnrm run examples/quickstart.clnrm.toml "$@" ;;
  test)
    # Every failed test in one list at the end of the log (tools/vitest-failures.ts writes it).
    export CLNRM_FAILURES_FILE=${CLNRM_FAILURES_FILE:-$(mktemp -t clnrm-failures.XXXXXX)}
    pnpm test "$@"
    rc=$?
    if [ -s "$CLNRM_FAILURES_FILE" ]; then
      echo "---- failed tests ----"
      cat "$CLNRM_FAILURES_FILE"
    fi
    exit $rc
    ;;
  bench)
    # Benchmark-only setup (docker compose, the multi-service peer): not part of CI's test setup.
    bash "$ROOT/bench/setup.sh" || exit 1
    pnpm bench "$@"
    ;;
esac
exit $?
