#!/usr/bin/env bash
# Stops what tools/test-engine/start.sh DIR started: sshd, dockerd (and its containers), the network
# namespace and veth pair; then removes DIR. Safe to run twice or after a failed start.
set -uo pipefail

DIR=${1:?usage: stop.sh DIR}
[ -d "$DIR" ] || exit 0
NAME=$(cat "$DIR/name" 2>/dev/null || echo clnrm-e2)
RUN=$(cat "$DIR/run-dir" 2>/dev/null || echo "/run/$NAME")
log() { echo "[test-engine] $*" >&2; }

stop_pid() { # pidfile
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
}

log "stopping"
stop_pid "$RUN/sshd.pid"
stop_pid "$DIR/sshd.launcher.pid"
if [ -S "$RUN/docker.sock" ]; then
  # Containers first, so that dockerd stops quickly and leaves no mounts behind.
  ids=$(docker -H "unix://$RUN/docker.sock" ps -aq 2>/dev/null)
  [ -n "$ids" ] && docker -H "unix://$RUN/docker.sock" rm -f $ids >/dev/null 2>&1
fi
stop_pid "$RUN/dockerd.pid"
ip netns pids "$NAME" 2>/dev/null | xargs -r kill -9 2>/dev/null
ip link del "${NAME:0:10}-h" 2>/dev/null
ip netns del "$NAME" 2>/dev/null
# dockerd may leave overlay mounts under its data root.
grep -o " $DIR/data[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
grep -o " $RUN[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
rm -rf "$DIR" "$RUN"
log "stopped"
