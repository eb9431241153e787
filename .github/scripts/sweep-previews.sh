#!/usr/bin/env bash
# Destroy and remove every preview stack whose time to live ran out.
#   sweep-previews.sh <default-ttl>
# Needs the Pulumi CLI, logged in to the state backend, and the project's virtualenv
# (SLM_DEPLOY names another slm-deploy command). Each stack is handled on its own: a stack
# that fails is reported and the sweep goes on; the exit status is 1 when any failed.
set -euo pipefail
default_ttl=${1:-72h}
slm_deploy=${SLM_DEPLOY:-.venv/bin/slm-deploy}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pulumi stack ls --json > "$work/stacks.json"
mkdir "$work/tags"
# slm-deploy prints name<TAB>number, whether Pulumi lists `pr-12` or `org/project/pr-12`.
"$slm_deploy" list-previews --stacks-json "$work/stacks.json" > "$work/previews.tsv"
while IFS=$'\t' read -r -u 3 stack number; do
  # Without its tags a stack still expires by its last update plus the default ttl.
  if ! pulumi stack tag ls --json --stack "$stack" > "$work/tags/pr-$number.json" < /dev/null; then
    echo "::warning title=Preview sweep::cannot read the tags of $stack; judging it by its last update"
    rm -f "$work/tags/pr-$number.json"
  fi
done 3< "$work/previews.tsv"

"$slm_deploy" expired-previews --stacks-json "$work/stacks.json" --tags-dir "$work/tags" \
  --default-ttl "$default_ttl" > "$work/expired.tsv"
echo "Expired preview stacks: $(wc -l < "$work/expired.tsv")"

failed=()
while IFS=$'\t' read -r -u 3 stack number; do
  # destroy reads the stack file: regenerate it from the template first.
  if "$slm_deploy" preview-stack --pr "$number" > /dev/null < /dev/null &&
    pulumi destroy --yes --remove --skip-preview --stack "$stack" < /dev/null; then
    echo "destroyed and removed $stack"
  else
    echo "::error title=Preview sweep::could not destroy $stack; it is left for the next run"
    failed+=("$stack")
  fi
done 3< "$work/expired.tsv"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "Failed: ${failed[*]}"
  exit 1
fi
