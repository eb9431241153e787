#!/usr/bin/env bash
# `python3 -m venv` needs ensurepip, which Debian and Ubuntu ship separately (python3-venv):
# install it with apt-get only when ensurepip is missing, as install-prometheus-tools.sh does.
#   ensure-python-venv.sh [python]   (default: $PYTHON, else python3)
set -euo pipefail
python=${1:-${PYTHON:-python3}}

if "$python" -c "import ensurepip" >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$python has no ensurepip, so it cannot create virtualenvs, and there is no apt-get here:" \
        "install your distribution's venv package for $python" >&2
    exit 1
fi

# python3-venv pulls in the venv package of the distribution's default python3; another
# interpreter (python3.12 next to a default 3.11) needs its own pythonX.Y-venv.
version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
default=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null || true)
package=python3-venv
if [ "$version" != "$default" ]; then
    package=python$version-venv
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
fi
echo "installing $package: $python has no ensurepip, which python -m venv needs"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
"$python" -c "import ensurepip"
