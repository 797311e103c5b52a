#!/usr/bin/env bash
# Debian packages the drivers, the HA backend, the web UI tests and the benchmarks use:
# installed when missing (needs root; otherwise the missing ones are named and skipped).
set -euo pipefail

PACKAGES=(
  docker.io                    # Docker Engine for the docker driver
  containernetworking-plugins  # CNI plugins for bridge networking
  iptables iproute2            # portmap, network namespaces
  busybox-static               # root filesystems for locally imported images
  default-jdk-headless         # java driver (javac/jar build the test jar)
  etcd-server                  # the HA backend
  chromium                     # web UI tests
  prometheus                   # scraping /v1/metrics in the telemetry tests
)

# npm installs the web UI's front-end libraries at `make setup` (Debian's when none is present)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: not root; missing Debian packages: ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
