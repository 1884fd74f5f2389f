#!/usr/bin/env bash
# Set up .venv: torch first, as the build this machine can use, then vistance with its dev tools.
#
#   bash scripts/setup.sh [--dry-run]
#
# On Linux, PyPI's torch is the CUDA build (several GB). A machine where nvidia-smi lists a GPU gets it; any
# other machine gets the CPU build from PyTorch's CPU index, or, where that index cannot be reached, the plain
# requirement from pip's configured indexes (a mirror or a local wheel may hold the CPU build).
#
#   VISTANCE_TORCH=auto|cpu|cuda|skip   which torch (default auto; skip keeps the torch .venv already has)
#   VISTANCE_TORCH_CPU_INDEX=URL        PyTorch's CPU index (default https://download.pytorch.org/whl/cpu)
#   PYTHON=python3.11                   the interpreter that creates .venv (default python3)
#   --dry-run                           print the commands without running them
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH="torch==2.13.0"
CPU_INDEX="${VISTANCE_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
PYTHON="${PYTHON:-python3}"
PIP=".venv/bin/pip"
want="${VISTANCE_TORCH:-auto}"
dry_run=false
case "${1:-}" in
  --dry-run) dry_run=true ;;
  "") ;;
  *) echo "usage: bash scripts/setup.sh [--dry-run]" >&2; exit 2 ;;
esac

run() { echo "+ $*"; $dry_run || "$@"; }
has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
reachable() {  # the index answers for torch within 5 s
  "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=5)' \
    "$1" >/dev/null 2>&1
}

case "$want" in
  auto) if has_gpu; then want=cuda; else want=cpu; fi ;;
  cpu|cuda|skip) ;;
  *) echo "setup: VISTANCE_TORCH must be auto, cpu, cuda or skip, not '$want'" >&2; exit 2 ;;
esac

[ -x .venv/bin/python ] || run "$PYTHON" -m venv .venv
case "$want" in
  cuda) run "$PIP" install "$TORCH" ;;
  cpu)
    if reachable "$CPU_INDEX"; then
      run "$PIP" install "$TORCH" --index-url "$CPU_INDEX"
    else
      echo "setup: $CPU_INDEX cannot be reached; installing $TORCH from pip's configured indexes" \
           "(on Linux, PyPI's is the CUDA build)" >&2
      run "$PIP" install "$TORCH"
    fi ;;
esac
run "$PIP" install -e ".[dev,scale]"
