"""Evaluate a run, or compare several.

    vistance evaluate RUN_DIR ...                                  # the same as `python evaluate.py ...`
    python evaluate.py RUN_DIR [--split test|dev] [--out DIR]      # the run's checkpoint on its own split
    python evaluate.py RUN_DIR --data FILE [--out DIR]             # ... on any labelled corpus file,
                                                                   #     or another run's splits/<part>.jsonl
    python evaluate.py --compare RUN_DIR... [--out DIR]            # rank runs, paired bootstrap vs the best

Writes metrics.json, report.md, report.html and errors.csv to <run>/eval-<split>/ (or
eval-<file stem>/); a comparison goes to comparisons/<timestamp>/ (outside runs/, so `runs/*/*` never picks
it up). The logic lives in vistance.evaluation and vistance.reports.
"""

import argparse
import sys
import warnings

from .errors import VistanceError, exit_on_error
from .evaluation import BootstrapConfig, default_out_dir, evaluate_run
from .reports.comparison import compare_runs, write_comparison
from .reports.comparison import default_out_dir as compare_out_dir
from .reports.evaluation import write_report
from .reports.format import fmt, fmt_ci


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="a run folder (several with --compare)")
    parser.add_argument("--split", default="test", choices=("test", "dev"), help="split of the run to evaluate")
    parser.add_argument("--data", help="a labelled file in the corpus format to evaluate on instead")
    parser.add_argument("--compare", action="store_true", help="compare the given runs instead")
    parser.add_argument("--out", help="output folder (default: see below)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    return parser


def main(argv=None, prog: str | None = None) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    bootstrap = BootstrapConfig(n_resamples=args.resamples, seed=args.seed)

    try:
        if args.compare:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = lambda msg, *a, **k: print(f"warning: {msg}", file=sys.stderr)
                cmp = compare_runs(args.runs, bootstrap)
            if not cmp.runs:
                print("error: no complete run to compare", file=sys.stderr)
                return 1
            paths = write_comparison(cmp, args.out or compare_out_dir())
            for r in cmp.runs:
                ci = fmt_ci(r.evaluation.ci["macro_f1"])
                print(f"[{r.group}] {r.rank}. {r.name}: macro-F1 {fmt(r.macro_f1)} {ci}")
            print(f"report: {paths['html']}")
            return 0

        if len(args.runs) > 1:
            parser.error("give one RUN_DIR, or --compare for several")
        run = args.runs[0]
        ev = evaluate_run(run, split=args.split, data=args.data, batch_size=args.batch_size, bootstrap=bootstrap)
        paths = write_report(ev, args.out or default_out_dir(run, args.split, args.data))
        m = ev.metrics
        print(
            f"n={ev.n}  accuracy {fmt(m['accuracy'])}  macro-F1 {fmt(m['macro_f1'])} {fmt_ci(ev.ci['macro_f1'])}"
            + (f"  F_avg {fmt(m['f_avg'])} {fmt_ci(ev.ci['f_avg'])}" if "f_avg" in m else "")
            + f"  ECE {fmt(ev.calibration['ece'])}  errors {len(ev.errors)}"
        )
        print(f"report: {paths['html']}")
        return 0
    except VistanceError as e:  # unusable run, checkpoint, data file: one line
        return exit_on_error(e)
    except OSError as e:  # e.g. an unwritable --out
        return exit_on_error(VistanceError(f"{e.filename or ''}: {e.strerror or e}"))


if __name__ == "__main__":
    sys.exit(main(prog="python -m vistance.evaluate"))
