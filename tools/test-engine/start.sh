#!/usr/bin/env bash
# A second, real Docker engine on this machine, for tests of remote engines (issue 17).
# It runs in its own network namespace (so it has its own docker0, iptables and addresses) and is
# reached like a remote host: over TCP with TLS at tcp://$ADDR:2376 and, when openssh-server is
# installed, over SSH at ssh://root@$ADDR (sshd in the namespace sees this engine's socket at
# /var/run/docker.sock, as on a real Docker host).
#
#   tools/test-engine/start.sh DIR [IMAGE...]
#
# DIR gets everything (certs, data, sockets, logs); IMAGEs are copied from the main engine with
# `docker save | docker -H ... load`. Prints shell assignments (DOCKER_HOST, DOCKER_CERT_PATH, ...) on
# stdout when it is up. Needs root. Stop with tools/test-engine/stop.sh DIR.
# Environment: NAME (netns name, default clnrm-e2), SUBNET (first three octets, default 10.77.0).
# Privileged containers are refused here, so Docker-in-Docker is out; and `ip netns exec` hides the
# cgroup mounts (dockerd refuses to start under it), hence nsenter.
set -euo pipefail

DIR=${1:?usage: start.sh DIR [IMAGE...]}
shift
NAME=${NAME:-clnrm-e2}
SUBNET=${SUBNET:-10.77.0}
HOST_ADDR=$SUBNET.1
ADDR=$SUBNET.2
VETH_HOST=${NAME:0:10}-h
VETH_NS=${NAME:0:10}-n
log() { echo "[test-engine] $*" >&2; }

if ip netns list | grep -qw "^$NAME"; then
  log "network namespace $NAME exists already: tools/test-engine/stop.sh on its DIR, or pick another NAME"
  exit 1
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
# Unix sockets have a short path limit (108): the exec root and sockets live under /run.
RUN=/run/$NAME
mkdir -p "$RUN" "$DIR/data" "$DIR/certs" "$DIR/client"
echo "$NAME" >"$DIR/name"
echo "$RUN" >"$DIR/run-dir"

# --- TLS: a CA, a server certificate for $ADDR, a client certificate (as `docker --tlsverify` wants).
log "certificates"
(
  cd "$DIR/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=clnrm test CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$ADDR" -keyout server-key.pem -out server.csr 2>/dev/null
  printf 'subjectAltName = IP:%s\nextendedKeyUsage = serverAuth\n' "$ADDR" >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server-cert.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=clnrm test client" -keyout key.pem -out client.csr 2>/dev/null
  printf 'extendedKeyUsage = clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem 2>/dev/null
  cp ca.pem cert.pem key.pem "$DIR/client/"
)

# --- Network namespace and a veth pair: $HOST_ADDR here, $ADDR there.
log "network namespace $NAME ($HOST_ADDR <-> $ADDR)"
ip netns add "$NAME"
ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
ip link set "$VETH_NS" netns "$NAME"
ip addr add "$HOST_ADDR/24" dev "$VETH_HOST"
ip link set "$VETH_HOST" up
NS=(nsenter "--net=/var/run/netns/$NAME")
"${NS[@]}" ip addr add "$ADDR/24" dev "$VETH_NS"
"${NS[@]}" ip link set "$VETH_NS" up
"${NS[@]}" ip link set lo up
"${NS[@]}" ip route add default via "$HOST_ADDR"

# --- dockerd in the namespace: TCP+TLS for clients, a unix socket for this script and sshd.
log "dockerd"
"${NS[@]}" setsid dockerd \
  --data-root "$DIR/data" --exec-root "$RUN/exec" --pidfile "$RUN/dockerd.pid" \
  -H "unix://$RUN/docker.sock" -H "tcp://$ADDR:2376" \
  --tlsverify --tlscacert "$DIR/certs/ca.pem" --tlscert "$DIR/certs/server-cert.pem" --tlskey "$DIR/certs/server-key.pem" \
  --bip 172.31.250.1/24 --default-address-pool base=172.31.0.0/17,size=24 \
  >"$DIR/dockerd.log" 2>&1 </dev/null &
LOCAL=(docker -H "unix://$RUN/docker.sock")
for _ in $(seq 1 150); do
  "${LOCAL[@]}" version >/dev/null 2>&1 && break
  sleep 0.2
done
"${LOCAL[@]}" version >/dev/null 2>&1 || {
  log "dockerd did not start; its log:"
  tail -20 "$DIR/dockerd.log" >&2
  exit 1
}

for image in "$@"; do
  log "image $image"
  docker save "$image" | "${LOCAL[@]}" load >/dev/null
done

# --- sshd in the namespace, in its own mount namespace where /var/run/docker.sock is this engine's.
SSH_HOST=""
if [ -x /usr/sbin/sshd ]; then
  log "sshd"
  mkdir -p "$DIR/ssh"
  ssh-keygen -q -t ed25519 -N "" -f "$DIR/ssh/host_key" </dev/null
  ssh-keygen -q -t ed25519 -N "" -f "$DIR/ssh/id_ed25519" </dev/null
  cp "$DIR/ssh/id_ed25519.pub" "$DIR/ssh/authorized_keys"
  chmod 600 "$DIR/ssh/authorized_keys"
  cat >"$DIR/ssh/sshd_config" <<EOF
ListenAddress $ADDR:22
HostKey $DIR/ssh/host_key
AuthorizedKeysFile $DIR/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
PidFile $RUN/sshd.pid
EOF
  echo "$ADDR $(cat "$DIR/ssh/host_key.pub")" >"$DIR/ssh/known_hosts"
  cat >"$DIR/ssh/config" <<EOF
Host $ADDR
  User root
  IdentityFile $DIR/ssh/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/ssh/known_hosts
  StrictHostKeyChecking yes
EOF
  mkdir -p /run/sshd
  "${NS[@]}" unshare --mount --propagation private sh -c \
    "mount --bind '$RUN/docker.sock' /var/run/docker.sock && exec /usr/sbin/sshd -D -e -f '$DIR/ssh/sshd_config'" \
    >"$DIR/sshd.log" 2>&1 </dev/null &
  echo $! >"$DIR/sshd.launcher.pid"
  for _ in $(seq 1 50); do
    ssh -F "$DIR/ssh/config" -o BatchMode=yes -o ConnectTimeout=2 "$ADDR" true 2>/dev/null && break
    sleep 0.2
  done
  if ssh -F "$DIR/ssh/config" -o BatchMode=yes -o ConnectTimeout=2 "$ADDR" test -S /var/run/docker.sock 2>/dev/null; then
    SSH_HOST="ssh://root@$ADDR"
  else
    log "sshd did not come up; its log:"
    tail -5 "$DIR/sshd.log" >&2
  fi
else
  log "no /usr/sbin/sshd (apt-get install openssh-server): SSH not available"
fi

log "up"
cat <<EOF
ENGINE_ADDR=$ADDR
ENGINE_LOCAL=unix://$RUN/docker.sock
DOCKER_HOST=tcp://$ADDR:2376
DOCKER_TLS_VERIFY=1
DOCKER_CERT_PATH=$DIR/client
SSH_DOCKER_HOST=$SSH_HOST
SSH_CONFIG=$( [ -n "$SSH_HOST" ] && echo "$DIR/ssh/config" )
EOF
