#!/bin/sh
# Entrypoint of the upstream redis image on Debian's redis-server: options
# (or a .conf file) alone run redis-server; as root it drops to the redis
# user. Upstream builds redis with protected mode off by default (the
# container's network is the boundary), so without a config file and without
# an explicit --protected-mode this passes `--protected-mode no`.
set -e

case $1 in -*|*.conf) set -- redis-server "$@" ;; esac

if [ "$1" = redis-server ]; then
  case $2 in
    *.conf) ;;
    *) case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac ;;
  esac
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    umask 0077
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
umask 0077
exec "$@"
