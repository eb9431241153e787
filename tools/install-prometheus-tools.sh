#!/usr/bin/env bash
# promtool and amtool for `slm-deploy check`: Debian's prometheus and prometheus-alertmanager
# packages, installed only when the commands are missing. The packages' services are kept
# from starting (policy-rc.d), so no Prometheus server is left listening on :9090.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "promtool/amtool not found and no apt-get here: install Prometheus 2.x (promtool) and" \
        "Alertmanager (amtool) and put them on PATH" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
fi

POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary: slm-deploy setup installs packages without starting services\nexit 101\n' |
        "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi

echo "installing promtool and amtool (Debian packages prometheus, prometheus-alertmanager)"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null

# On a machine that runs systemd the packages enable their services for the next boot.
if [ -d /run/systemd/system ]; then
    "${SUDO[@]}" systemctl disable --now prometheus prometheus-alertmanager >/dev/null 2>&1 || true
fi
command -v promtool >/dev/null && command -v amtool >/dev/null
