"""vistance: claim detection and stance toward the Russia-Ukraine peace process in Vietnamese news.

``import vistance`` stays light (no torch, no transformers): :class:`StanceClassifier` is imported
on first access, so a command that only validates data never pays for loading a model stack.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vistance")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["StanceClassifier", "__version__"]


def __getattr__(name: str):
    if name == "StanceClassifier":
        from .inference.classifier import StanceClassifier

        return StanceClassifier
    raise AttributeError(f"module 'vistance' has no attribute {name!r}")
