#!/usr/bin/env bash
# Build the web app with Trunk (release): the agents' app (index.html) into
# dist/, then the supervisors' app (supervisor.html) into dist/supervisor/,
# whose assets are served under /supervisor/. `pinline serve --web-dist dist`
# serves both; agents never download the supervisor views.
set -euo pipefail
cd "$(dirname "$0")/.."
trunk build index.html --release
trunk build supervisor.html --release --dist dist/supervisor --public-url /supervisor/
# Precompressed copies the server sends to browsers that take them
# (brotli when the brotli tool is installed, gzip always); the originals
# stay for the others.
find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \) | while read -r f; do
  gzip -9 -k -f -n "$f"
  if command -v brotli >/dev/null 2>&1; then brotli -q 11 -k -f "$f"; fi
done
ls -l dist/*.wasm* dist/supervisor/*.wasm*
