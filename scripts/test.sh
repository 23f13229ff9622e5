#!/usr/bin/env bash
# The README's test command: make a virtual environment, install symbackprop with everything the
# tests need (PyTorch 2.13.0 is the CPU wheel on this machine's disk), and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet -e '.[test,torch]'
bash scripts/setup_test_deps.sh  # pdflatex, Graphviz, KaTeX for tests/test_rendered_outputs.py, when missing
.venv/bin/python -m pytest "$@"
