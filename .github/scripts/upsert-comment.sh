#!/usr/bin/env bash
# Post a pull request comment, or update the earlier one of this workflow: the comment of the
# github-actions bot that starts with the same marker line (the body file's first line).
#   upsert-comment.sh <markdown-file>
# Needs GH_TOKEN, REPO (owner/name) and PR (number) in the environment, and gh and jq.
set -euo pipefail
body=$1
marker=$(head -n 1 "$body")
case "$marker" in
  "<!--"*"-->") ;;
  *)
    echo "upsert-comment.sh: the first line of $body must be a marker such as <!-- slm-deploy-diff -->" >&2
    exit 2
    ;;
esac
# --paginate prints one JSON array per page; jq reads them all and keeps the first match.
existing=$(gh api --paginate "repos/$REPO/issues/$PR/comments" |
  jq -rn --arg marker "$marker" \
    'first(inputs[] | select(.user.login == "github-actions[bot]" and ((.body // "") | startswith($marker))) | .id) // empty')
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$REPO/issues/comments/$existing" -F "body=@$body" --silent
  echo "updated comment $existing on pull request $PR"
else
  gh api --method POST "repos/$REPO/issues/$PR/comments" -F "body=@$body" --silent
  echo "posted a comment on pull request $PR"
fi
