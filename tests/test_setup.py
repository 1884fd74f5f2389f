"""scripts/setup.sh picks the torch build for the machine: what it would run, with --dry-run."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "setup.sh"
TORCH = ".venv/bin/pip install torch==2.13.0"
DEV = ".venv/bin/pip install -e .[dev,scale]"
UNREACHABLE = "http://127.0.0.1:9/whl/cpu"  # the discard port: connection refused at once


def path_without_nvidia_smi() -> str:
    dirs = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "nvidia-smi").exists()]
    path = os.pathsep.join(dirs)
    if not all(shutil.which(tool, path=path) for tool in ("bash", "python3", "dirname")):
        pytest.skip("nvidia-smi shares a folder with bash or python3 here")
    return path


def setup_dry_run(tmp_path, path: str, **env) -> tuple[list[str], str]:
    """The commands the script prints with --dry-run (without the venv's creation), and its stderr."""
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PATH": path, **env},
    )
    assert proc.returncode == 0, proc.stderr
    commands = [line[2:] for line in proc.stdout.splitlines() if line.startswith("+ ")]
    assert commands[-1] == DEV
    return [c for c in commands if " -m venv " not in c], proc.stderr


@pytest.fixture
def cpu_index(tmp_path):
    """A local stand-in for PyTorch's CPU index (only its /torch/ page is asked for)."""
    (tmp_path / "whl" / "cpu" / "torch").mkdir(parents=True)
    (tmp_path / "whl" / "cpu" / "torch" / "index.html").write_text("<a>torch-2.13.0+cpu</a>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/whl/cpu"
    server.shutdown()


def test_no_gpu_gets_the_cpu_build_from_the_cpu_index(tmp_path, cpu_index):
    commands, _ = setup_dry_run(tmp_path, path_without_nvidia_smi(), VISTANCE_TORCH_CPU_INDEX=cpu_index)
    assert commands == [f"{TORCH} --index-url {cpu_index}", DEV]


def test_a_gpu_gets_the_default_cuda_build(tmp_path, cpu_index):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200 (UUID: GPU-0)'\n")
    (fake / "nvidia-smi").chmod(0o755)
    commands, _ = setup_dry_run(
        tmp_path, f"{fake}{os.pathsep}{path_without_nvidia_smi()}", VISTANCE_TORCH_CPU_INDEX=cpu_index
    )
    assert commands == [TORCH, DEV]
    # nvidia-smi without a working GPU (no driver, no device) is a CPU machine
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    commands, _ = setup_dry_run(
        tmp_path, f"{fake}{os.pathsep}{path_without_nvidia_smi()}", VISTANCE_TORCH_CPU_INDEX=cpu_index
    )
    assert commands == [f"{TORCH} --index-url {cpu_index}", DEV]


def test_an_unreachable_cpu_index_falls_back_to_the_plain_requirement(tmp_path):
    commands, err = setup_dry_run(tmp_path, path_without_nvidia_smi(), VISTANCE_TORCH_CPU_INDEX=UNREACHABLE)
    assert commands == [TORCH, DEV]
    assert f"{UNREACHABLE} cannot be reached" in err


def test_overrides(tmp_path, cpu_index):
    path = path_without_nvidia_smi()
    assert setup_dry_run(tmp_path, path, VISTANCE_TORCH="cuda", VISTANCE_TORCH_CPU_INDEX=cpu_index)[0] == [TORCH, DEV]
    assert setup_dry_run(tmp_path, path, VISTANCE_TORCH="skip")[0] == [DEV]
    assert setup_dry_run(tmp_path, path, VISTANCE_TORCH="cpu", VISTANCE_TORCH_CPU_INDEX=cpu_index)[0] == [
        f"{TORCH} --index-url {cpu_index}",
        DEV,
    ]
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "VISTANCE_TORCH": "rocm"},
    )
    assert proc.returncode == 2 and "VISTANCE_TORCH must be auto, cpu, cuda or skip, not 'rocm'" in proc.stderr
    assert proc.stdout == ""  # nothing done before the error
