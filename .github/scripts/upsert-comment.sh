#!/usr/bin/env bash
# Post a pull request comment, or update the one that starts with the same marker line.
#   upsert-comment.sh <marker> <markdown-file>
# Needs GH_TOKEN, REPO (owner/name) and PR (number) in the environment.
set -euo pipefail
marker=$1
body=$2
existing=$(gh api --paginate "repos/$REPO/issues/$PR/comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$REPO/issues/comments/$existing" -F "body=@$body" --silent
  echo "updated comment $existing on pull request $PR"
else
  gh api --method POST "repos/$REPO/issues/$PR/comments" -F "body=@$body" --silent
  echo "posted a comment on pull request $PR"
fi
