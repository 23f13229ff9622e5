#!/usr/bin/env bash
# Regenerate the committed worked solutions beside each problem file in worked_examples/.
# tests/test_worked_examples.py checks that the committed files equal what this writes, byte for byte.
# SYMBACKPROP names the command to run (default: symbackprop on PATH), e.g. a worktree's own code.
set -euo pipefail
cd "$(dirname "$0")/../worked_examples"
for problem in *.yaml; do
  for format in txt md tex json; do
    ${SYMBACKPROP:-symbackprop} solve "$problem" --format "$format" -o "${problem%.yaml}.$format"
  done
done
(cd study && for format in md tex; do
  ${SYMBACKPROP:-symbackprop} train lr_study.yaml --lr 0.05 --lr 1 --lr 1.5 --lr 2.5 --steps 200 -o . --format "$format"
done)
# Homework for a class of five (issue 14): every file `symbackprop variants` writes.
(cd homework && rm -rf class && ${SYMBACKPROP:-symbackprop} variants homework.yaml --roster roster.csv \
  --seed ml-2026 -o class)
