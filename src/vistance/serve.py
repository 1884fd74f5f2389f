"""``python -m vistance.serve``: the HTTP service lives in :mod:`vistance.inference.serve`."""

import sys

from .inference.serve import main

if __name__ == "__main__":
    sys.exit(main())
