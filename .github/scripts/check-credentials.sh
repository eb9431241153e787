#!/usr/bin/env bash
# Decide whether a Pulumi job can run, and say why not in one clear line.
#   check-credentials.sh <stack>
# Reads AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_SUBSCRIPTION_ID, PULUMI_BACKEND_URL or
# PULUMI_ACCESS_TOKEN from the environment (empty on pull requests from forks) and writes
# ready=true|false to $GITHUB_OUTPUT.
set -euo pipefail
stack=$1
ready=true
reason=""
if [ ! -f "stacks/Pulumi.$stack.yaml" ] && [ "${stack#pr-}" = "$stack" ]; then
  ready=false
  reason="stacks/Pulumi.$stack.yaml does not exist in this repository"
elif [ -z "${AZURE_CLIENT_ID:-}" ] || [ -z "${AZURE_TENANT_ID:-}" ] || [ -z "${AZURE_SUBSCRIPTION_ID:-}" ]; then
  ready=false
  reason="the Azure credentials (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_SUBSCRIPTION_ID) are not available to this run (not configured, or a pull request from a fork)"
elif [ -z "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_ACCESS_TOKEN:-}" ]; then
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
