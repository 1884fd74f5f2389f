"""``python -m vistance.predict``: the command line lives in :mod:`vistance.inference.cli`."""

import sys

from .inference.cli import main

if __name__ == "__main__":
    sys.exit(main())
