#!/usr/bin/env bash
# Install what tests/test_rendered_outputs.py needs, only when it is missing (a no-op otherwise):
#   - TeX Live from Debian, to compile the worked solutions' .tex with pdflatex;
#   - Graphviz from Debian, for `symbackprop graph --format svg`;
#   - KaTeX from npm (the exact version pinned in tests/katex/package-lock.json), to parse every
#     math fragment of the worked solutions' .md.
# Prints what it installs; exits non-zero when an install fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TEX_PACKAGES=(texlive-latex-base texlive-latex-recommended texlive-pictures lmodern)
TEX_FILES=(amsmath.sty amssymb.sty tikz.sty lmodern.sty)  # what the solutions use, by package above

# The Debian packages whose commands or files are missing.
missing_packages() {
  if ! command -v pdflatex >/dev/null || [ "$(kpsewhich "${TEX_FILES[@]}" | wc -l)" -ne "${#TEX_FILES[@]}" ]; then
    echo "${TEX_PACKAGES[@]}"
  fi
  command -v dot >/dev/null || echo graphviz
  command -v npm >/dev/null || echo nodejs npm
}

missing=$(missing_packages | xargs)
if [ -n "$missing" ]; then
  echo "setup_test_deps: installing Debian packages: $missing"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup_test_deps: not root and no sudo: cannot install them" >&2; exit 1; }
    as_root=(sudo)
  fi
  # Wait (up to 10 minutes) for another apt-get or dpkg that holds the lock instead of failing.
  apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq)
  "${apt[@]}" update
  # shellcheck disable=SC2086  # one word per package
  "${apt[@]}" install -y --no-install-recommends $missing >/dev/null
  still=$(missing_packages | xargs)
  [ -z "$still" ] || { echo "setup_test_deps: still missing after the install: $still" >&2; exit 1; }
  echo "setup_test_deps: $(pdflatex --version | head -n 1); $(dot -V 2>&1); node $(node --version)"
fi

if [ ! -f tests/katex/node_modules/katex/package.json ]; then
  echo "setup_test_deps: installing KaTeX into tests/katex/node_modules (npm ci)"
  (cd tests/katex && npm ci --no-audit --no-fund --loglevel=error)
  echo "setup_test_deps: katex $(node -p 'require("./tests/katex/node_modules/katex/package.json").version')"
fi
