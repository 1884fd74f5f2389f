"""``python -m vistance.bench SUBCOMMAND [options]``: each subcommand is a module of this package."""

import importlib
import sys

from . import __doc__ as DOC

SUBCOMMANDS = {"train": "train", "predict": "predict", "batch": "batch", "e5-train": "e5train", "serve": "serve"}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS:
        print(DOC, file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    module = importlib.import_module(f"{__package__}.{SUBCOMMANDS[argv[0]]}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
