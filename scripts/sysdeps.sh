#!/usr/bin/env bash
# System packages spacefold needs beyond Python (Debian/Ubuntu names), installed when missing:
#   libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri   OpenGL through EGL (Mesa llvmpipe) for 3-D scenes
#   chromium                                      headless browser for the viewer's tests (--browser)
# Never `playwright install`: it downloads its own browser, which fails offline.
set -euo pipefail

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

missing=()
dpkg -s libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri >/dev/null 2>&1 \
    || missing+=(libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri)
if [ $want_browser = 1 ] && ! command -v chromium >/dev/null; then
    missing+=(chromium)
fi
[ ${#missing[@]} = 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "spacefold needs system packages: ${missing[*]} (install them with your package manager)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
        echo "spacefold needs: apt-get install -y ${missing[*]} (run it as root)" >&2
        exit 1
    fi
fi
echo "installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
