#!/usr/bin/env python
"""One turn of the annotation loop through a real Label Studio, start to end, on loopback only.

    python scripts/labelstudio_roundtrip.py [--label-studio /work/ls-venv/bin/label-studio] [--model RUN]

1. ``train.py --config configs/baseline.yaml`` into a temporary run folder (unless ``--model``),
   ``python -m vistance.annotate rank`` over ``--pool`` (default: the seed articles, data/raw) and
   ``python -m vistance.annotate export ... --format labelstudio --model RUN``: tasks with predictions
   and the labelling config beside them.
2. ``label-studio start`` on 127.0.0.1, a free port and a fresh data folder in the temporary folder
   (legacy API token, no version check, no analytics); waits until it answers.
3. A project with vistance's labelling config (the exported ``*.labelstudio.xml``), through the API.
4. The exported task file uploaded as a file, as in Settings → Import.
5. Five annotations through the API (claims with and without speaker, not_claims, Vietnamese
   diacritics), one of them corrected afterwards (PATCH), and one task skipped (cancelled).
6. The project exported as JSON (annotated tasks only, and once more with download_all_tasks=true).
7. ``python -m vistance.annotate import`` of both exports: the records must equal the submitted
   labels (the corrected one as corrected), the task fields must come back unchanged, and no
   prediction and no skipped task may turn into a record.

The server (its whole process group) is stopped and the temporary folder removed in every case.
Exit status 0 and a summary on success; 1 and one line ``labelstudio_roundtrip: FAILED: ...`` on
failure. Needs only the standard library (vistance itself runs in ``--python``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER = "roundtrip@example.com"  # Label Studio's login form wants a valid e-mail address


class Failed(Exception):
    """A step went wrong; the message is the one line printed."""


class Unreachable(Failed):
    """Label Studio stopped answering (refused, reset or timed-out connection)."""


def kept(steps: list[str]) -> str:
    """What a failed round trip leaves: the steps it finished, and never a corpus file, since
    ``vistance.annotate import`` runs only on a complete export and writes its output atomically."""
    done = ", ".join(steps) if steps else "no step"
    return (
        f"kept: nothing ({done} finished; the temporary folder is removed and no corpus file was written, "
        "since the import runs only on a complete export and writes atomically)"
    )


# --------------------------------------------------------------------------- vistance (subprocesses)


def vistance(python: str, args: list[str], what: str, timeout: float = 600) -> str:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    }
    try:
        proc = subprocess.run(
            [python, *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise Failed(f"{what}: no result after {timeout:.0f} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise Failed(f"{what} exited {proc.returncode}: {last}")
    return proc.stdout


# --------------------------------------------------------------------------- Label Studio (server and API)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``label-studio start`` in its own process group (its dev server forks a reloader child)."""

    def __init__(self, executable: str, data_dir: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(20)
        self.log = log
        env = {
            **os.environ,
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
        }
        cmd = [
            executable,
            "start",
            "--data-dir",
            str(data_dir),
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-browser",
            "--username",
            USER,
            "--password",
            secrets.token_hex(8),
            "--user-token",
            self.token,
            "--enable-legacy-api-token",
        ]
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=data_dir,
            start_new_session=True,
        )

    def last_log_line(self) -> str:
        lines = [x for x in self.log.read_text(encoding="utf-8", errors="replace").splitlines() if x.strip()]
        return lines[-1].strip() if lines else "no output"

    def wait_ready(self, timeout: float) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise Failed(f"label-studio exited {self.proc.returncode} while starting: {self.last_log_line()}")
            try:
                self.call("GET", "/api/version", timeout=5)
                return time.monotonic() - t0
            except (OSError, Failed):  # Unreachable until it listens
                time.sleep(1)
        raise Failed(f"label-studio did not answer on {self.url} within {timeout:.0f} s: {self.last_log_line()}")

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        raw: bool = False,
        timeout: float = 60,
        files: dict[str, Path] | None = None,
    ):
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for field, file in files.items():
                parts += [
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                    f'filename="{file.name}"\r\nContent-Type: application/json\r\n\r\n'.encode(),
                    file.read_bytes(),
                    b"\r\n",
                ]
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                content = r.read()
        except urllib.error.HTTPError as e:
            detail = " ".join(e.read().decode("utf-8", "replace").split())[:300]
            raise Failed(f"{method} {path}: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:  # refused, reset, timed out: the server went away
            reason = getattr(e, "reason", e)
            raise Unreachable(f"Label Studio at {self.url} unreachable during {method} {path} ({reason})") from None
        return content if raw else json.loads(content or b"null")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group we created: server and reloader child
                self.proc.wait(timeout=20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        else:  # the server is gone, but a child may still hold the port
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()


# --------------------------------------------------------------------------- the annotations


def _choice(name: str, value: str) -> dict:
    return {
        "id": uuid.uuid4().hex[:10],
        "from_name": name,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [value]},
        "origin": "manual",
    }


def result(claim: str, stance: str | None = None, speaker: str | None = None) -> list[dict]:
    """An annotation result as Label Studio's UI submits it for vistance's config."""
    out = [_choice("claim", claim)]
    if stance:
        out.append(_choice("stance", stance))
    if speaker:
        out.append(
            {
                "id": uuid.uuid4().hex[:10],
                "from_name": "speaker",
                "to_name": "text",
                "type": "textarea",
                "value": {"text": [speaker]},
                "origin": "manual",
            }
        )
    return out


# (claim, stance, speaker) per task, in Label Studio's task order; the third is corrected afterwards.
PLAN = [
    ("claim", "against", "Yury Ushakov"),
    ("not_claim", None, None),
    ("claim", "favor", "Sergei Lavrov"),
    ("claim", "neutral", None),
    ("not_claim", None, None),
]
CORRECTION = (2, ("claim", "neutral", "Phạm Minh Chính"))  # NFC diacritics in a speaker name


# --------------------------------------------------------------------------- the round trip


def roundtrip(args, tmp: Path, servers: list, steps: list[str] | None = None) -> list[str]:
    summary = [] if steps is None else steps
    python = args.python

    # 1. a model, a ranked batch, Label Studio tasks with predictions
    model = args.model
    if model is None:
        model = tmp / "run"
        vistance(
            python, ["train.py", "--config", "configs/baseline.yaml", "--run-dir", str(model)], "train.py (baseline)"
        )
        summary.append("model: configs/baseline.yaml trained on data/annotated into a temporary run folder")
    else:
        summary.append(f"model: {model}")
    batch, tasks_file = tmp / "batch.jsonl", tmp / "tasks.json"
    out = vistance(
        python,
        [
            "-m",
            "vistance.annotate",
            "rank",
            "--model",
            str(model),
            "--pool",
            str(args.pool),
            "--k",
            str(args.k),
            "--out",
            str(batch),
        ],
        "vistance.annotate rank",
    )
    summary.append(f"rank: {out.strip().splitlines()[-1].replace(str(tmp), '<tmp>')}")
    vistance(
        python,
        [
            "-m",
            "vistance.annotate",
            "export",
            "--input",
            str(batch),
            "--format",
            "labelstudio",
            "--model",
            str(model),
            "--out",
            str(tasks_file),
        ],
        "vistance.annotate export",
    )
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    config = tasks_file.with_name(f"{tasks_file.stem}.labelstudio.xml").read_text(encoding="utf-8")
    n_speaker = sum(any(r["from_name"] == "speaker" for r in t["predictions"][0]["result"]) for t in tasks)
    if len(tasks) < len(PLAN) + 1:
        raise Failed(f"only {len(tasks)} task(s) exported; need {len(PLAN) + 1} (raise --k or give a larger --pool)")
    if any(len(t.get("predictions", [])) != 1 for t in tasks):
        raise Failed(f"{tasks_file}: every task should carry one prediction")
    versions = sorted({t["predictions"][0]["model_version"] for t in tasks})
    summary.append(
        f"export: {len(tasks)} tasks, each with a prediction ({n_speaker} with a speaker), "
        f"model version {', '.join(versions)}"
    )

    # 2. Label Studio on loopback, fresh data folder
    data_dir = tmp / "ls-data"
    data_dir.mkdir()
    server = Server(args.label_studio, data_dir, tmp / "label-studio.log")
    servers.append(server)
    seconds = server.wait_ready(args.start_timeout)
    version = server.call("GET", "/api/version").get("release", "?")
    summary.insert(0, f"label-studio {version} ({args.label_studio}) on {server.url}, answered after {seconds:.0f} s")

    # 3. project with vistance's labelling config
    project = server.call("POST", "/api/projects", {"title": "vistance round trip", "label_config": config})
    controls = project.get("parsed_label_config") or {}
    want = {"claim": "Choices", "stance": "Choices", "speaker": "TextArea"}
    got = {k: v.get("type") for k, v in controls.items()}
    if got != want:
        raise Failed(f"Label Studio parsed the labelling config as {got}, expected {want}")
    pid = project["id"]

    # 4. the task file, uploaded as a file
    imported = server.call("POST", f"/api/projects/{pid}/import", files={"file": tasks_file})
    if (imported.get("task_count"), imported.get("prediction_count")) != (len(tasks), len(tasks)):
        raise Failed(
            f"import of {tasks_file.name}: {imported.get('task_count')} tasks and "
            f"{imported.get('prediction_count')} predictions, expected {len(tasks)} of each"
        )
    listed = server.call("GET", f"/api/tasks?project={pid}&page_size=1000&fields=all")["tasks"]
    listed.sort(key=lambda t: t["id"])
    if [t["data"] for t in listed] != [t["data"] for t in tasks]:
        raise Failed("the task data Label Studio stored differs from the exported task data")
    for lt, t in zip(listed, tasks):
        stored = [{k: r[k] for k in ("from_name", "to_name", "type", "value")} for r in lt["predictions"][0]["result"]]
        if stored != t["predictions"][0]["result"] or lt["predictions"][0]["score"] != t["predictions"][0]["score"]:
            raise Failed(f"task #{lt['id']}: Label Studio stored a different prediction than exported")
    summary.append(
        f"project {pid}: labelling config accepted (claim, stance: Choices; speaker: TextArea); "
        f"{len(tasks)} tasks and {len(tasks)} predictions imported from the file, stored unchanged"
    )

    # 5. annotations through the API: five, one corrected, one task skipped
    expected, annotation_ids = {}, []
    for lt, labels in zip(listed, PLAN):
        ann = server.call(
            "POST",
            f"/api/tasks/{lt['id']}/annotations",
            {"result": result(*labels), "was_cancelled": False, "ground_truth": False, "lead_time": 3.0},
        )
        annotation_ids.append(ann["id"])
        expected[lt["data"]["id"]] = labels
    i, labels = CORRECTION
    time.sleep(0.01)
    server.call("PATCH", f"/api/annotations/{annotation_ids[i]}", {"result": result(*labels)})
    expected[listed[i]["data"]["id"]] = labels
    skipped_task = listed[len(PLAN)]
    server.call(
        "POST",
        f"/api/tasks/{skipped_task['id']}/annotations",
        {"result": [], "was_cancelled": True, "ground_truth": False},
    )
    summary.append(
        f"annotated: {len(PLAN)} tasks via the API "
        f"({sum(p[0] == 'claim' for p in PLAN)} claim, {sum(p[0] == 'not_claim' for p in PLAN)} not_claim, "
        f"speakers typed), task #{listed[i]['id']} corrected (PATCH), task #{skipped_task['id']} skipped"
    )

    # 6. JSON export: annotated tasks, then all tasks
    exports = {}
    for name, query in (("annotated", ""), ("all", "&download_all_tasks=true")):
        content = server.call("GET", f"/api/projects/{pid}/export?exportType=JSON{query}", raw=True, timeout=120)
        path = tmp / f"export-{name}.json"
        path.write_bytes(content)
        exports[name] = (path, json.loads(content))
    n_annotated, n_all = len(exports["annotated"][1]), len(exports["all"][1])
    annotated_ids = {t["id"] for t in listed[: len(PLAN) + 1]}
    if {t["id"] for t in exports["annotated"][1]} != annotated_ids:
        raise Failed(
            f"the JSON export lists tasks {sorted(t['id'] for t in exports['annotated'][1])}, "
            f"expected the annotated and skipped ones {sorted(annotated_ids)}"
        )
    if n_all != len(tasks):
        raise Failed(f"the download_all_tasks export lists {n_all} tasks, expected {len(tasks)}")
    summary.append(
        f"export (JSON): {n_annotated} tasks (the annotated + the skipped one); {n_all} with download_all_tasks=true"
    )

    # 7. vistance's import of both exports
    by_data = {t["data"]["id"]: t["data"] for t in tasks}
    for name, (path, _) in exports.items():
        out_file = tmp / f"imported-{name}.jsonl"
        said = (
            vistance(
                python,
                ["-m", "vistance.annotate", "import", str(path), "--out", str(out_file)],
                f"vistance.annotate import ({name})",
            )
            .strip()
            .splitlines()[-1]
        )
        records = [json.loads(x) for x in out_file.read_text(encoding="utf-8").splitlines() if x.strip()]
        got = {r["id"]: (r["claim"], r["stance"], r["speaker"]) for r in records}
        if got != expected:
            diff = {
                k: (got.get(k), expected.get(k))
                for k in sorted(set(got) | set(expected))
                if got.get(k) != expected.get(k)
            }
            raise Failed(
                f"import of the {name} export: records differ from the submitted labels (got, submitted): {diff}"
            )
        for r in records:
            data = by_data[r["id"]]
            if (r["article"], r["date"], r["text"]) != (data["article"], data["date"], data["text"]):
                raise Failed(f"import of the {name} export: {r['id']} came back with other article/date/text")
        want_skipped = (n_annotated if name == "annotated" else n_all) - len(PLAN)
        if f"{want_skipped} task(s) without annotation skipped" not in said:
            raise Failed(f"import of the {name} export said {said!r}; expected {want_skipped} task(s) skipped")
        summary.append(f"import ({name} export): {said.replace(str(tmp), '<tmp>')} -- equal to the submitted labels")
    return summary


def find_label_studio(given: str | None) -> str | None:
    for cand in (given, os.environ.get("LABEL_STUDIO_BIN"), shutil.which("label-studio")):
        if cand and (shutil.which(cand) or Path(cand).is_file()):
            return shutil.which(cand) or cand
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--label-studio", help="the label-studio executable (default: $LABEL_STUDIO_BIN, then PATH)")
    p.add_argument("--model", type=Path, help="checkpoint or run folder (default: train configs/baseline.yaml)")
    p.add_argument("--pool", type=Path, default=ROOT / "data" / "raw", help="sentences to rank (default: data/raw)")
    p.add_argument("--k", type=int, default=10, help="sentences to rank and export (default: 10)")
    p.add_argument("--python", default=sys.executable, help="interpreter with vistance's dependencies")
    p.add_argument("--start-timeout", type=float, default=240, help="seconds to wait for label-studio (default: 240)")
    args = p.parse_args(argv)
    args.label_studio = find_label_studio(args.label_studio)

    servers: list[Server] = []
    steps: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="vistance-ls-"))

    def on_signal(signum, frame):  # a timeout's SIGTERM still stops the server and removes the folder
        raise Failed(f"stopped by signal {signum}")

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.label_studio is None:
            raise Failed("label-studio not found: give --label-studio, set $LABEL_STUDIO_BIN or put it on PATH")
        summary = roundtrip(args, tmp, servers, steps)
    except Failed as e:
        done = [s.split(":")[0] for s in steps]
        print(f"labelstudio_roundtrip: FAILED: {e}; {kept(done)}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 -- anything unforeseen still gets one line, not a traceback
        print(f"labelstudio_roundtrip: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        for s, h in old.items():
            signal.signal(s, h)
    print("\n".join(summary))
    print("round trip OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
