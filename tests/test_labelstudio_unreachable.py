"""Label Studio going away mid-way: one line naming what failed and what was kept (offline, fast)."""

import importlib.util
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location(
        "labelstudio_roundtrip", ROOT / "scripts" / "labelstudio_roundtrip.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_an_unreachable_label_studio_is_one_line_naming_the_call(tmp_path):
    script = load_script()
    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = object.__new__(script.Server)
    server.url, server.token = f"http://127.0.0.1:{port}", "x"
    task_file = tmp_path / "tasks.json"
    task_file.write_text("[]", encoding="utf-8")
    with pytest.raises(script.Unreachable) as err:
        server.call("POST", "/api/projects/1/import", files={"file": task_file}, timeout=5)
    message = str(err.value)
    expected = f"Label Studio at http://127.0.0.1:{port} unreachable during POST /api/projects/1/import ("
    assert message.startswith(expected)
    assert "refused" in message.lower() and "\n" not in message
    line = f"{message}; {script.kept(['model', 'rank', 'export'])}"
    assert "kept: nothing (model, rank, export finished;" in line and "no corpus file was written" in line
    assert "\n" not in line
