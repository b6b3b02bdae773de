#!/usr/bin/env bash
# Installs what tessera needs to build and test on Debian or Ubuntu, skipping what is there:
# FFmpeg's libraries, libavif (AVIF stills), pkg-config and clang (bindgen), nasm (the SIMD code of
# mozjpeg's libjpeg: without it JPEG's DCTs and colour conversions run as plain C), a Vulkan driver
# (Mesa's lavapipe, so the GPU backend runs without a GPU), the ffmpeg CLI (tests only), Python
# with venv (the Python package and its tests), and a Rust toolchain.
set -euo pipefail

packages=(
  libavcodec-dev libavformat-dev libavfilter-dev libavdevice-dev libswscale-dev libswresample-dev
  libavif-dev pkg-config clang libclang-dev nasm mesa-vulkan-drivers libvulkan1 ffmpeg ca-certificates curl
  python3 python3-venv
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    echo "Rust is in ~/.cargo/bin; add it to PATH (source ~/.cargo/env)"
  else
    echo "installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  fi
fi
