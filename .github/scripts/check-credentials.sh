#!/usr/bin/env bash
# Decide whether a Pulumi job can run, and say why not in one clear line.
#   check-credentials.sh <stack>
# Reads AZURE_READY and STATE_READY ("true" or "false"), which the workflow computes from
# `secrets.X != ''`, so this step never holds a secret value; both are false on pull requests
# from forks. Writes ready=true|false to $GITHUB_OUTPUT.
set -euo pipefail
stack=$1
ready=true
reason=""
if [ ! -f "stacks/Pulumi.$stack.yaml" ] && [ "${stack#pr-}" = "$stack" ]; then
  ready=false
  reason="stacks/Pulumi.$stack.yaml does not exist in this repository"
elif [ "${AZURE_READY:-false}" != true ]; then
  ready=false
  reason="the Azure credentials (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_SUBSCRIPTION_ID) are not available to this run (not configured in its environment, or a pull request from a fork)"
elif [ "${STATE_READY:-false}" != true ]; then
  ready=false
  reason="no Pulumi state backend: set PULUMI_BACKEND_URL (self-managed) or PULUMI_ACCESS_TOKEN (Pulumi Cloud)"
fi
if [ "$ready" = true ]; then
  echo "Credentials present: running Pulumi for stack $stack."
else
  echo "Skipping Pulumi for stack $stack: $reason."
  echo "::notice title=Pulumi skipped for $stack::$reason"
fi
echo "ready=$ready" >> "$GITHUB_OUTPUT"
