#!/usr/bin/env bash
# Render every stack of a project checkout with that checkout's own slm-deploy.
#   render-all.sh <project-dir> <out-dir> [--tolerant]
# Writes <out-dir>/<stack>/ per stack; generated pr-<n> stacks are skipped. With --tolerant a
# stack that fails to render is reported and left out (used for the base of a pull request).
set -euo pipefail
project=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
tolerant=${3:-}
cli="$project/.venv/bin/slm-deploy"
status=0
shopt -s nullglob
for file in "$project"/stacks/Pulumi.*.yaml; do
  stack=$(basename "$file" .yaml)
  stack=${stack#Pulumi.}
  case "$stack" in pr-*) continue ;; esac
  if (cd "$project" && "$cli" render "$stack" --out "$out/$stack"); then
    :
  elif [ "$tolerant" = "--tolerant" ]; then
    echo "::warning::stack $stack did not render in $project; it is left out of the comparison"
  else
    status=1
  fi
done
exit "$status"
