"""Evaluate a run, or compare several: ``python evaluate.py RUN_DIR`` / ``python evaluate.py --compare RUN_DIR...``.

The same as ``vistance evaluate``; the command lives in ``src/vistance/evaluate.py``.
"""

import sys

from vistance.evaluate import main

if __name__ == "__main__":
    sys.exit(main(prog="evaluate.py"))
