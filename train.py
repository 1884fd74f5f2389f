"""Train a model from a config file into its own run folder: ``python train.py --config configs/tiny.yaml``.

The same as ``vistance train``; the steps read top to bottom in ``src/vistance/train.py``.
"""

import sys

from vistance.train import cli, main, parse_args  # noqa: F401  (main, parse_args: for scripts and tests)

if __name__ == "__main__":
    sys.exit(cli(prog="train.py"))
