"""Inference: the classifier users load (:mod:`.classifier`), the ``predict`` command line (:mod:`.cli`)
and the HTTP service (:mod:`.serve`)."""

from .classifier import StanceClassifier

__all__ = ["StanceClassifier"]
