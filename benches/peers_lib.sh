# Shared by benches/peers.sh and benches/kernel_floor.sh (sourced, not run): where uweb, the
# peers of ../shared/peers and uWebSockets C++ are, and how they get built.
#   PEERS_TARGET   where the peers are (or get) built; default ../shared/peers/target
#   UWS            where uWebSockets C++ is built; default /tmp/peers-src/uWebSockets
#   UWS_GIT, USOCKETS_GIT   git dirs of uWebSockets and uSockets: build it if missing
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="$(cd "$root/../shared/peers" && pwd)"
target="${PEERS_TARGET:-$peers/target}"
uws="${UWS:-/tmp/peers-src/uWebSockets}"
examples="$root/target/release/examples"

# Builds uweb's hello_world and echo_server, the peers, and uWebSockets C++ when its git
# snapshots are given (else says that it is missing, if it is).
build_servers() {
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" \
    --example hello_world --example echo_server
  (cd "$peers" && CARGO_TARGET_DIR="$target" cargo build --release --quiet)
  if [ ! -x "$uws/PlaintextPort" ] && [ -n "${UWS_GIT:-}" ] && [ -n "${USOCKETS_GIT:-}" ]; then
    (cd "$peers" && ./uws_build.sh)
  fi
  [ -x "$uws/PlaintextPort" ] || echo "note: uWebSockets C++ is not built (UWS_GIT, USOCKETS_GIT)" >&2
}
