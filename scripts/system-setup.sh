#!/usr/bin/env bash
# Installs the system packages the engine needs, as root. On Debian 12 (bookworm):
#   Mesa >= 24 lavapipe (CPU Vulkan for Dawn) from bookworm-backports, the Vulkan loader,
#   Debian's chromium (browser test project; also ships the SwiftShader Vulkan ICD), xz (npm run bundle), and
#   Debian's python3-torch (the PyTorch interop tests: export, agreement, torchrun DDP; the train bench's peer).
# On Ubuntu 24.04+ / Debian 13+: Mesa from the main archive (no chromium on Ubuntu: it is a snap there).
# Idempotent. Usage: scripts/system-setup.sh [--no-chromium]
set -euo pipefail

want_chromium=1
[ "${1:-}" = "--no-chromium" ] && want_chromium=0

if [ "$(id -u)" != 0 ]; then echo "system-setup: must run as root" >&2; exit 1; fi
. /etc/os-release
export DEBIAN_FRONTEND=noninteractive
if [ "${ID:-}" = ubuntu ] || { [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" != bookworm ]; }; then
  # Ubuntu 24.04+ and Debian 13+ ship Mesa >= 24 in their main archive. Ubuntu's chromium is a snap: not installed here.
  apt-get update -qq
  apt-get install -y -qq mesa-vulkan-drivers libvulkan1 xz-utils python3-torch >/dev/null
  if [ "$want_chromium" = 1 ] && [ "${ID:-}" = debian ]; then apt-get install -y -qq chromium >/dev/null; fi
  echo "system-setup: mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
  exit 0
fi
if [ "${ID:-}" != debian ]; then
  echo "system-setup: written for Debian and Ubuntu; found ${PRETTY_NAME:-unknown}." >&2
  echo "Install a Vulkan driver with Mesa >= 24 (lavapipe) and chromium with your package manager." >&2
  exit 1
fi

backports=/etc/apt/sources.list.d/c2al-backports.sources
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # Reuse the mirror the machine already uses for bookworm.
  mirror=$(grep -rhs '^URIs:' /etc/apt/sources.list.d/*.sources | grep -v security | awk '{print $2}' | head -n1)
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | grep -v security | awk '{print $2}' | head -n1)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" > "$backports"
fi

apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
apt-get install -y -qq xz-utils >/dev/null  # the portable bundle (npm run bundle) is a .tar.xz
apt-get install -y -qq python3-torch >/dev/null  # PyTorch interop tests and the train bench's peer (run with /usr/bin/python3)
if [ "$want_chromium" = 1 ]; then apt-get install -y -qq chromium >/dev/null; fi
mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)
torch=$(dpkg-query -W -f='${Version}' python3-torch)
echo "system-setup: mesa $mesa, python3-torch $torch$( [ "$want_chromium" = 1 ] && echo ", chromium $(dpkg-query -W -f='${Version}' chromium)")"
