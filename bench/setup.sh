#!/usr/bin/env bash
# Benchmark-only setup (not CI's test setup): docker compose, the peer multi-service.bench.mjs
# measures clnrm against. Debian's docker-compose 1.29.
set -euo pipefail
if ! command -v docker-compose >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q docker-compose >/dev/null || {
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q docker-compose >/dev/null
  }
fi
docker-compose version --short
