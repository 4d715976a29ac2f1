#!/bin/sh
# Entrypoint for Debian's rabbitmq-server shaped like the upstream image's:
# RABBITMQ_DEFAULT_USER / _PASS / _VHOST become the default user, password
# and vhost (conf.d/20-default-user.conf), RABBITMQ_ERLANG_COOKIE the cookie,
# and the server runs in the foreground as the rabbitmq user.
set -e

if [ "$1" = rabbitmq-server ]; then
  conf=/etc/rabbitmq/conf.d/20-default-user.conf
  : >"$conf"
  [ -z "${RABBITMQ_DEFAULT_USER:-}" ] || echo "default_user = $RABBITMQ_DEFAULT_USER" >>"$conf"
  [ -z "${RABBITMQ_DEFAULT_PASS:-}" ] || echo "default_pass = $RABBITMQ_DEFAULT_PASS" >>"$conf"
  [ -z "${RABBITMQ_DEFAULT_VHOST:-}" ] || echo "default_vhost = $RABBITMQ_DEFAULT_VHOST" >>"$conf"
  if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then
    echo "loopback_users.$RABBITMQ_DEFAULT_USER = false" >>"$conf"
  fi
  if [ -n "${RABBITMQ_ERLANG_COOKIE:-}" ]; then
    printf '%s' "$RABBITMQ_ERLANG_COOKIE" >/var/lib/rabbitmq/.erlang.cookie
    chmod 600 /var/lib/rabbitmq/.erlang.cookie
  fi
  if [ "$(id -u)" = 0 ]; then
    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server
  fi
  exec /usr/lib/rabbitmq/bin/rabbitmq-server
fi
exec "$@"
