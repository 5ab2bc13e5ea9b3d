#!/usr/bin/env bash
# Build the web app with Trunk (release): the agents' app (index.html) into
# dist/, then the supervisors' app (supervisor.html) into dist/supervisor/,
# whose assets are served under /supervisor/. `pinline serve --web-dist dist`
# serves both; agents never download the supervisor views.
set -euo pipefail
cd "$(dirname "$0")/.."
trunk build index.html --release
trunk build supervisor.html --release --dist dist/supervisor --public-url /supervisor/
ls -l dist/*.wasm dist/supervisor/*.wasm
