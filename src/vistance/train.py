"""Train a model from a config file into its own run folder.

    vistance train --config configs/tiny.yaml                   # the same as `python train.py ...`
    python train.py --config configs/tiny.yaml [--set training.seed=1 ...] [--run-dir DIR] [--cv K]
    python train.py --resume runs/tiny/20261123-153000          # continue an interrupted run
    accelerate launch train.py --config configs/phobert-base-v2.yaml --run-dir runs/pb   # several GPUs

Config -> seed -> data -> run folder -> model -> train -> evaluate -> save; the steps live in
``vistance.training`` and the run-folder format in ``vistance.runs``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from transformers import set_seed

from . import logs, runs, training
from .config import config_from_dict, load_config
from .errors import VistanceError, exit_on_error
from .models import get_kind
from .tasks import get_task


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    p.add_argument("--config", help="YAML file in configs/ (only what differs from the defaults)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a config value")
    p.add_argument("--run-dir", help="run folder (default runs/<config name>/<YYYYmmdd-HHMMSS>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    p.add_argument("--cv", type=int, help="K grouped folds instead of one split (same as --set training.cv=K)")
    return p


def parse_args(argv=None, prog: str | None = None) -> argparse.Namespace:
    p = build_parser(prog)
    args = p.parse_args(argv)
    if bool(args.config) == bool(args.resume):
        p.error("give --config (a new run) or --resume RUN_DIR (an interrupted one)")
    if args.resume and (args.set or args.run_dir or args.cv):
        p.error("--resume replays the run's own config.yaml; --set, --run-dir and --cv do not apply")
    return args


def main(argv=None, callbacks=()) -> Path:
    args = parse_args(argv)
    command = runs.command_line(["train.py", *(sys.argv[1:] if argv is None else argv)])
    main_process = runs.is_main_process()

    # Config: defaults <- YAML <- --set. A resumed run replays the config it saved.
    if args.resume:
        run_dir = runs.resumable(args.resume)
        cfg = config_from_dict(runs.read_yaml(run_dir / "config.yaml"))
    else:
        cfg = load_config(args.config, args.set + ([f"training.cv={args.cv}"] if args.cv else []))

    # Data: the run folder keeps the exact split records, so a resumed run trains on the same sentences.
    if args.resume:
        info = runs.read_json(run_dir / "data.json")
        task = get_task(info["task"], info["labels"])
        folds = runs.fold_dirs(run_dir, cfg.training.cv)
        splits = [runs.read_splits(d) for d in folds]
    else:
        data = training.load_task_data(cfg.data)
        task = data.task
        splits = training.make_splits(data, cfg.data, cfg.training.cv)
        if len(splits) > 1:  # data.split=loso makes one fold per source
            cfg.training.cv = len(splits)
        run_dir = runs.shared_run_dir(args.run_dir, cfg.name)
        folds = runs.fold_dirs(run_dir, cfg.training.cv)
        if main_process:
            runs.prepare_run(run_dir, cfg.to_yaml(), command, runs.data_info(data.files, task, splits))
            for fold_dir, split in zip(folds, splits):
                runs.write_splits(fold_dir, split)
                if fold_dir != run_dir:
                    runs.write_json(fold_dir / "data.json", runs.data_info(data.files, task, [split]))
    if args.resume and main_process:
        runs.append_command(run_dir, command)
    print(f"run folder: {run_dir} (log: {run_dir / logs.LOG_FILE})", flush=True)
    main.run_dir = run_dir  # for the interrupt message

    # The terminal gets a progress bar per phase and the summary; train.log gets everything.
    with (
        logs.run_log(run_dir / logs.LOG_FILE, enabled=main_process),
        runs.track(run_dir, resumed=bool(args.resume), enabled=main_process) as status,
    ):
        logs.logger.info("%s: %s", "resumed" if args.resume else "started", command)
        fold_metrics = []
        for fold_dir, split in zip(folds, splits):
            if args.resume and (fold_dir / "metrics.json").is_file():  # a fold that finished before the interrupt
                fold_metrics.append(runs.read_json(fold_dir / "metrics.json"))
                continue
            # Seed: the same seed on the same hardware gives the same model init, batch order and dropout.
            set_seed(cfg.training.seed)
            # Model: the kind's learner (vistance.models), its outputs in the task's label order.
            learner = training.make_learner(cfg, task, fold_dir, split.train)
            # Train: transformers stop early on dev macro-F1 and restore the best epoch.
            learner.fit(split.train, split.dev, resume=bool(args.resume), callbacks=callbacks)
            # Evaluate on dev and test with the metrics every other tool uses.
            scores = training.score_split(learner, split, task, cfg.training, extra=split.extra)
            # Save: CV folds of big models keep no checkpoint (K copies of PhoBERT fill a disk).
            save_checkpoint = not cfg.training.cv or get_kind(cfg.model.kind).small_checkpoint
            if main_process:
                info = runs.read_json(fold_dir / "data.json")
                fold_metrics.append(
                    training.save_outputs(
                        fold_dir, learner, scores, cfg, task, info, save_checkpoint, train=split.train
                    )
                )
            if main_process and save_checkpoint and not cfg.training.cv and cfg.training.export == "openvino":
                from .inference.export import export

                export(fold_dir / "checkpoint", train_rows=split.train, test_rows=split.test, say=logs.say)
            if cfg.training.cv and main_process:
                logs.say(f"{fold_dir.name}: {training.format_metrics(fold_metrics[-1])}")
        if main_process:
            metrics = training.summarize_folds(fold_metrics, task) if cfg.training.cv else fold_metrics[0]
            if cfg.training.cv:
                runs.write_json(run_dir / "metrics.json", metrics)
                logs.say(training.format_metrics(metrics))
            status["train_seconds"] = metrics["train_seconds"]
            logs.say(training.summary_line(folds, task.labels))
    trained = f", trained in {status['train_seconds']:.0f} s" if "train_seconds" in status else ""
    print(f"run folder: {run_dir} (complete{trained})", flush=True)
    return run_dir


def _terminate(signum, frame):
    # SIGTERM (a scheduler's stop, `kill`) ends the run like Ctrl-C: status "interrupted", resumable.
    raise KeyboardInterrupt


def cli(argv=None, prog: str | None = None) -> int:
    """The command line: ``main`` with one-line errors (exit 2) and a resumable Ctrl-C or SIGTERM (exit 130)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        parse_args(argv, prog)  # --help and usage errors name the command the user typed
        main(argv)
    except VistanceError as e:
        return exit_on_error(e)
    except KeyboardInterrupt:
        run_dir = getattr(main, "run_dir", None)
        hint = f"python train.py --resume {run_dir}" if run_dir else "the same command again"
        print(f"interrupted: continue with `{hint}`", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(cli(prog="python -m vistance.train"))
