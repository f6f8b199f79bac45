#!/usr/bin/env bash
# Renders an HTML report (or SVG chart) in headless Chromium and saves a PNG screenshot.
#   scripts/screenshot.sh lab/index.html docs/lab-report.png [WIDTH] [HEIGHT]
set -euo pipefail
input=$1 output=$2 width=${3:-1100} height=${4:-2600}
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chromium" ] || { echo "screenshot.sh: Chromium is not installed (apt-get install chromium)" >&2; exit 1; }
[ -f "$input" ] || { echo "screenshot.sh: $input: no such file" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir="$profile" \
  --window-size="$width,$height" --screenshot="$(realpath -m "$output")" "file://$(realpath "$input")" >/dev/null 2>&1
echo "Saved $output (${width}×${height})"
