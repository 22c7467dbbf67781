#!/usr/bin/env bash
# Render the docs site into _docs/ with nbdev-docs and check it with tools/check_site.py.
#
# Usage: bash tools/build_docs.sh            (run from anywhere; uses `quarto` from PATH)
#        QUARTO_KIT=../shared/quarto-kit bash tools/build_docs.sh   (build Quarto with the kit first)
#
# nbdev-docs keeps Quarto's messages to itself when a render succeeds, so `quarto` is called through a
# small wrapper that copies its stderr into a log; check_site.py fails on any warning or error in it, or in
# nbdev-docs' own output.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ -n "${QUARTO_KIT:-}" ]; then
  prefix=${QUARTO_KIT_PREFIX:-$HOME/.cache/quarto-kit}
  echo "building Quarto with $QUARTO_KIT into $prefix"
  QUARTO_KIT_SKIP_SMOKE=1 bash "$QUARTO_KIT/build.sh" "$prefix" | tail -n 3
  export PATH="$prefix/bin:$PATH"
fi
real=$(command -v quarto) || { echo "quarto not found: install it or set QUARTO_KIT" >&2; exit 1; }
echo "quarto $("$real" --version) at $real"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=${QUARTO_LOG:-$tmp/quarto.log}   # set QUARTO_LOG to keep it
nblog=$tmp/nbdev-docs.log
: > "$log"
mkdir "$tmp/bin"
cat > "$tmp/bin/quarto" <<EOF
#!/usr/bin/env bash
# quarto's stdout as is (nbdev reads \`quarto inspect\` from it); its stderr to the caller and to the log
set -o pipefail
{ "$real" "\$@" 2>&1 1>&3 3>&- | tee -a "$log" >&2; } 3>&1
EOF
chmod +x "$tmp/bin/quarto"

start=$(date +%s)
set -o pipefail
PATH="$tmp/bin:$PATH" nbdev-docs 2>&1 | tee "$nblog"
echo "nbdev-docs took $(( $(date +%s) - start )) s"
python tools/check_site.py _docs --log "$log" --log "$nblog"
