#!/usr/bin/env bash
# Smoke tests of the real-server test images, with the docker CLI only: each
# starts its image on a private network, does a real query from a client
# container on that network and removes what it made (containers, network).
#
#   bash tools/test-images/smoke.sh                      # postgres redis rabbitmq surrealdb
#   bash tools/test-images/smoke.sh postgres redis       # a subset
#
# Prints one line per check and closes with "N passed, N failed"; exit 1 when
# any failed. Everything it creates is labelled clnrm.run=smoke-<pid>.
set -euo pipefail

RUN=smoke-$$
NET=clnrm-$RUN
LABEL=(--label "clnrm.run=$RUN")
passed=0
failed=0
TMP=$(mktemp -d)

cleanup() {
  local ids
  ids=$(docker ps -aq --filter "label=clnrm.run=$RUN")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# check NAME EXPECTED-REGEX COMMAND...: runs COMMAND, passes when its output matches.
check() {
  local name=$1 want=$2 out
  shift 2
  if out=$("$@" 2>&1) && [[ $out =~ $want ]]; then ok "$name"; else fail "$name: got: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
# check_fails NAME EXPECTED-REGEX COMMAND...: passes when COMMAND fails with matching output.
check_fails() {
  local name=$1 want=$2 out
  shift 2
  if out=$("$@" 2>&1); then fail "$name: succeeded: $(echo "$out" | tail -n 1)"; elif [[ $out =~ $want ]]; then ok "$name"; else fail "$name: got: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}

# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

start() { # name image [docker run args...] [-- command...]
  local name=$1 image=$2 args=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
  [ $# -eq 0 ] || shift
  docker run -d "${LABEL[@]}" --network "$NET" --network-alias "$name" --name "$RUN-$name" "${args[@]}" "$image" "$@" >/dev/null
}
# A client container of IMAGE on the network.
client() { # image command...
  local image=$1
  shift
  docker run --rm "${LABEL[@]}" --network "$NET" --entrypoint "$1" "$image" "${@:2}"
}
label() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1"; }

smoke_postgres() {
  local img=postgres:15
  check "postgres: labelled as a Debian test build" '^debian postgresql-15 15\.' label "$img" org.clnrm.test-build
  mkdir -p "$TMP/pg-init" "$TMP/pg-bad"
  printf 'CREATE TABLE t (id int PRIMARY KEY, name text);\nINSERT INTO t VALUES (1, %s);\n' "'from-init'" >"$TMP/pg-init/01-schema.sql"
  chmod -R a+rX "$TMP/pg-init"
  start pg "$img" -e POSTGRES_USER=app -e POSTGRES_PASSWORD=s3cret -e POSTGRES_DB=appdb \
    -v "$TMP/pg-init:/docker-entrypoint-initdb.d:ro"
  # Ready when a real query over TCP answers (the init phase listens on the socket only).
  wait_for 60 client "$img" psql "postgresql://app:s3cret@pg:5432/appdb" -tAc 'SELECT 1' ||
    { fail "postgres: not ready in 60 s: $(docker logs --tail 5 "$RUN-pg" 2>&1 | tr '\n' ' ')"; return; }
  check "postgres: SELECT 1 over TCP with the password" '^1$' \
    client "$img" psql "postgresql://app:s3cret@pg:5432/appdb" -tAc 'SELECT 1'
  check "postgres: the init script ran in POSTGRES_DB" '^from-init$' \
    client "$img" psql "postgresql://app:s3cret@pg:5432/appdb" -tAc 'SELECT name FROM t WHERE id = 1'
  check "postgres: server version is 15" '^15\.' \
    client "$img" psql "postgresql://app:s3cret@pg:5432/appdb" -tAc 'SHOW server_version'
  check_fails "postgres: a wrong password is refused" 'password authentication failed for user "app"' \
    client "$img" psql "postgresql://app:wrong@pg:5432/appdb" -tAc 'SELECT 1'

  # A failing init script stops the container with psql's file:line and the server's message.
  printf 'CREATE TABLE a (id int);\nSELECT 1;\nINSERT INTO missing VALUES (1);\n' >"$TMP/pg-bad/01-bad.sql"
  chmod -R a+rX "$TMP/pg-bad"
  start pgbad "$img" -e POSTGRES_PASSWORD=x -v "$TMP/pg-bad:/docker-entrypoint-initdb.d:ro"
  local code
  code=$(timeout 60 docker wait "$RUN-pgbad" 2>/dev/null || echo timeout)
  if [ "$code" != 0 ] && [ "$code" != timeout ]; then ok "postgres: a failing init script stops the container (exit $code)"; else fail "postgres: failing init script: exit $code"; fi
  check "postgres: the failure names file, line and the server's message" \
    'psql:/docker-entrypoint-initdb.d/01-bad.sql:3: ERROR:  relation "missing" does not exist' docker logs "$RUN-pgbad"
  check_fails "postgres: no POSTGRES_PASSWORD is refused like upstream" 'superuser password is not specified' \
    docker run --rm "${LABEL[@]}" "$img"
}

smoke_redis() {
  local img=redis:7.0
  check "redis: labelled as a Debian test build" '^debian redis-server 5:7\.0\.' label "$img" org.clnrm.test-build
  # The upstream image's command-line form: options after the image name go to redis-server.
  start redis "$img" -- --requirepass s3cret --appendonly yes
  wait_for 30 client "$img" redis-cli -h redis -a s3cret --no-auth-warning PING ||
    { fail "redis: not ready in 30 s: $(docker logs --tail 5 "$RUN-redis" 2>&1 | tr '\n' ' ')"; return; }
  check "redis: PING with the password answers PONG" '^PONG$' client "$img" redis-cli -h redis -a s3cret --no-auth-warning PING
  check "redis: without the password NOAUTH" 'NOAUTH' client "$img" redis-cli -h redis PING
  check "redis: SET/GET" '^v1$' client "$img" sh -c \
    'redis-cli -h redis -a s3cret --no-auth-warning SET k v1 >/dev/null && redis-cli -h redis -a s3cret --no-auth-warning GET k'
  check "redis: --appendonly yes took effect" 'appendonly[[:space:]]+yes' \
    client "$img" redis-cli -h redis -a s3cret --no-auth-warning CONFIG GET appendonly
  check "redis: server is 7.0" 'redis_version:7\.0\.' client "$img" redis-cli -h redis -a s3cret --no-auth-warning INFO server
  check "redis: runs as the redis user" '^redis$' docker exec "$RUN-redis" sh -c 'ps -o user= -p 1 2>/dev/null || stat -c %U /proc/1'
}

smoke_rabbitmq() {
  local img=rabbitmq:3.10-management tools=clnrm-test/tools:latest
  check "rabbitmq: labelled as a Debian test build" '^debian rabbitmq-server 3\.10\.' label "$img" org.clnrm.test-build
  start mq "$img" -e RABBITMQ_DEFAULT_USER=app -e RABBITMQ_DEFAULT_PASS=s3cret -e RABBITMQ_DEFAULT_VHOST=appvh
  local api=(curl -fsS -u app:s3cret)
  wait_for 90 client "$tools" "${api[@]}" http://mq:15672/api/overview ||
    { fail "rabbitmq: management API not ready in 90 s: $(docker logs --tail 5 "$RUN-mq" 2>&1 | tr '\n' ' ')"; return; }
  check "rabbitmq: management API answers as the default user, version 3.10" '"rabbitmq_version":"3\.10\.' \
    client "$tools" "${api[@]}" http://mq:15672/api/overview
  check "rabbitmq: RABBITMQ_DEFAULT_VHOST exists" '"name":"appvh"' client "$tools" "${api[@]}" http://mq:15672/api/vhosts/appvh
  check "rabbitmq: declare a queue" '^20[14]$' client "$tools" curl -sS -o /dev/null -w '%{http_code}' -u app:s3cret \
    -X PUT -H 'content-type: application/json' -d '{"durable":true}' http://mq:15672/api/queues/appvh/orders
  check "rabbitmq: publish through the default exchange" '"routed":true' client "$tools" "${api[@]}" \
    -X POST -H 'content-type: application/json' \
    -d '{"properties":{},"routing_key":"orders","payload":"hello-amqp","payload_encoding":"string"}' \
    http://mq:15672/api/exchanges/appvh/amq.default/publish
  check "rabbitmq: read it back from the queue" '"payload":"hello-amqp"' client "$tools" "${api[@]}" \
    -X POST -H 'content-type: application/json' -d '{"count":1,"ackmode":"ack_requeue_false","encoding":"auto"}' \
    http://mq:15672/api/queues/appvh/orders/get
  check "rabbitmq: wrong password is 401" '^401$' client "$tools" curl -sS -o /dev/null -w '%{http_code}' \
    -u app:wrong http://mq:15672/api/overview
  # AMQP 0-9-1: the server answers the protocol header with connection.start (class 10, method 10).
  check "rabbitmq: AMQP port speaks AMQP 0-9-1" '^010000.{8}000a000a0009' client "$tools" bash -c \
    "exec 3<>/dev/tcp/mq/5672 && printf 'AMQP\\x00\\x00\\x09\\x01' >&3 && timeout 5 head -c 19 <&3 | od -An -tx1 | tr -d ' \\n'"
}

smoke_surrealdb() {
  local img=clnrm-test/surrealdb-standin:latest tools=clnrm-test/tools:latest
  check "surrealdb: labelled with the engine it embeds" 'SurrealDB 2\.3\.10' label "$img" org.clnrm.test-build
  start surreal "$img" -- start --user root --pass s3cret --bind 0.0.0.0:8000 --strict memory
  wait_for 30 client "$tools" curl -fsS http://surreal:8000/health ||
    { fail "surrealdb: not ready in 30 s: $(docker logs --tail 5 "$RUN-surreal" 2>&1 | tr '\n' ' ')"; return; }
  local sql=(curl -sS -u root:s3cret -H 'surreal-ns: test' -H 'surreal-db: test' -H 'accept: application/json' http://surreal:8000/sql)
  check "surrealdb: /version is the engine's" '^surrealdb-2\.3\.10$' client "$tools" curl -fsS http://surreal:8000/version
  check "surrealdb: strict mode: an undefined namespace is the engine's error" "The namespace 'test' does not exist" \
    client "$tools" "${sql[@]}" -d 'SELECT * FROM person'
  check "surrealdb: DEFINE, CREATE, SELECT" '"status":"OK".*"name":"Ada"' client "$tools" "${sql[@]}" \
    -d "DEFINE NAMESPACE test; USE NS test; DEFINE DATABASE test; USE DB test; DEFINE TABLE person SCHEMAFULL; DEFINE FIELD name ON person TYPE string; CREATE person:ada SET name = 'Ada'; SELECT * FROM person;"
  check "surrealdb: a schema error is the engine's" 'Found 42 for field `name`.*"status":"ERR"' \
    client "$tools" "${sql[@]}" -d 'CREATE person:bad SET name = 42'
  check "surrealdb: a parse error is HTTP 400" '^400 .*Parse error' client "$tools" bash -c \
    "$(printf '%q ' "${sql[@]}") -o /tmp/b -w '%{http_code} ' -d 'SELEC oops' && cat /tmp/b"
  check "surrealdb: wrong password is 401" '^401$' client "$tools" curl -sS -o /dev/null -w '%{http_code}' \
    -u root:wrong -d 'RETURN 1' http://surreal:8000/sql
  check "surrealdb: no credentials: IAM error, nothing written" '"IAM error: Not enough permissions.*' client "$tools" \
    curl -sS -H 'surreal-ns: test' -H 'surreal-db: test' -d 'CREATE person:guest SET name = "g"' http://surreal:8000/sql
  check "surrealdb: ... and the guest's record is not there" '^\[\{"result":\[\],"status":"OK"' client "$tools" "${sql[@]}" \
    -d 'SELECT * FROM person:guest'
  check "surrealdb: /signin gives a token" '"token":"ey' client "$tools" curl -sS -H 'content-type: application/json' \
    -d '{"user":"root","pass":"s3cret"}' http://surreal:8000/signin
}

all=(postgres redis rabbitmq surrealdb)
[ $# -gt 0 ] || set -- "${all[@]}"
docker network create "${LABEL[@]}" "$NET" >/dev/null
for t in "$@"; do
  declare -F "smoke_$t" >/dev/null || { echo "smoke: unknown image '$t' (known: ${all[*]})" >&2; exit 2; }
  start_s=$SECONDS
  "smoke_$t"
  echo "     ($t: $((SECONDS - start_s)) s)"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
