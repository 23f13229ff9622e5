#!/usr/bin/env bash
# Run once by Gradescope when it builds the autograder image (as root, on Ubuntu).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# symbackprop needs Python 3.11 or later: Ubuntu 22.04's python3 is 3.10, so take python3.11 there.
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    apt-get install -y python3-venv
    python=python3
else
    apt-get install -y python3.11 python3.11-venv
    python=python3.11
fi
# A virtual environment: newer Ubuntu refuses pip installs into the system Python (PEP 668).
"$python" -m venv /opt/symbackprop
/opt/symbackprop/bin/pip install --upgrade pip
/opt/symbackprop/bin/pip install symbackprop==0.1.0
ln -sf /opt/symbackprop/bin/symbackprop /usr/local/bin/symbackprop
symbackprop --version
