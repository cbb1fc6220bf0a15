#!/usr/bin/env bash
# Installs what building and testing mrail needs on a fresh Debian 12.
set -euo pipefail
packages=(
  build-essential g++ cmake ninja-build pkg-config util-linux
  libnuma-dev libpmix-dev libcriterion-dev          # required
  libfabric-dev libucx-dev libibverbs-dev librdmacm-dev  # optional components
  openmpi-bin                                        # the cross-launcher test
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup-debian: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
