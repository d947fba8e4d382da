#!/usr/bin/env bash
# Installs the interop peers from Debian (quic-go sources + Go, ngtcp2's GnuTLS examples) when
# missing, then builds our quic-go hq-interop wrappers (tools/interop/quicgo) into
# $INTEROP_PEERS_DIR (default .scratch/interop-peers, gitignored). Idempotent: installed packages
# and up-to-date binaries are left alone. Nothing built here is ever committed.
#
#   bash .ci/interop-peers.sh && pnpm test:interop
#
# The Go build is offline (GOPATH mode over /usr/share/gocode): ~15 s cold on 2 cores, ~1 s warm.
set -euo pipefail
cd "$(dirname "$0")/.."

QUIC_GO_SRC=/usr/share/gocode/src/github.com/lucas-clemente/quic-go
PEERS_DIR="${INTEROP_PEERS_DIR:-$PWD/.scratch/interop-peers}"

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

missing=()
have go || missing+=(golang-go)
[ -d "$QUIC_GO_SRC" ] || missing+=(golang-github-lucas-clemente-quic-go-dev)
have gtlsclient || missing+=(ngtcp2-client)
have gtlsserver || missing+=(ngtcp2-server)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "interop-peers: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "interop-peers: Debian packages present"
fi

GO=$(command -v go || echo /usr/lib/go/bin/go)
mkdir -p "$PEERS_DIR"
for role in server client; do
  out="$PEERS_DIR/quicgo-$role"
  src="tools/interop/quicgo/$role/main.go"
  shared="tools/interop/quicgo/trace/trace.go"
  if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$shared" ]; then
    echo "interop-peers: $out is up to date"
    continue
  fi
  started=$(date +%s%N)
  (cd tools/interop/quicgo && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= "$GO" build -o "$out.partial.$$" "./$role")
  mv "$out.partial.$$" "$out"
  echo "interop-peers: built $out in $(( ($(date +%s%N) - started) / 1000000 )) ms"
done
echo "interop-peers: gtlsclient=$(command -v gtlsclient || echo /usr/bin/gtlsclient) gtlsserver=$(command -v gtlsserver || echo /usr/sbin/gtlsserver)"
