#!/usr/bin/env bash
# Installs what is missing, builds tessera, makes sample media (a clip with sound from FFmpeg's
# testsrc2 and sine sources, and a photo-like PNG) and runs the main job on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo build --release --locked
bin=target/release/tessera
out=target/demo
mkdir -p "$out"
ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=25:duration=4 -f lavfi -i sine=frequency=440:duration=4 \
  -c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$out/clip.mp4"
ffmpeg -v error -y -f lavfi -i mandelbrot=size=800x600 -frames:v 1 "$out/photo.png"
chain="gblur(sigma=2) | unsharp(amount=1.2) | eq(contrast=1.1, saturation=1.2)"
"$bin" process "$out/clip.mp4" -o "$out/clip-graded.mp4" --chain "$chain" --overwrite
"$bin" process "$out/photo.png" -o "$out/photo-graded.webp" --chain "$chain | scale(width=400)" --overwrite
"$bin" process "$out/photo.png" -o "$out/photo-gpu.png" --chain "$chain" --backend gpu --overwrite \
  || echo "(no GPU adapter: install a GPU driver or Mesa's lavapipe for --backend gpu)"
"$bin" check assets/chains/film-grade.chain
"$bin" process "$out/photo.png" -o "$out/photo-film.jpg" --chain-file assets/chains/film-grade.chain --overwrite
echo "wrote $out/clip-graded.mp4, $out/photo-graded.webp, $out/photo-gpu.png and $out/photo-film.jpg"
