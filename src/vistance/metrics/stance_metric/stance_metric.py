"""vistance's stance metric as a local ``evaluate`` module.

Hub metrics (``evaluate.load("f1")``) need the network; this one ships inside the package and
loads offline from its folder::

    import evaluate
    from vistance.metrics import STANCE_METRIC_DIR
    metric = evaluate.load(str(STANCE_METRIC_DIR))   # or vistance.metrics.load_stance_metric()
    metric.compute(predictions=["favor", ...], references=["against", ...],
                   labels=["not_claim", "favor", "against", "neutral"])

Predictions and references are label names, or integer ids into ``labels``.
"""

import datasets

import evaluate
from vistance.metrics import classification_metrics, confusion

_DESCRIPTION = """
Claim detection and stance classification scores: accuracy, macro-F1, per-class precision /
recall / F1 / support, the SemEval-2016 Task 6 stance score F_avg (mean F1 of favor and against),
claim-detection F1 (every stance label collapsed into "claim") and the confusion matrix.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: predicted labels (names, or integer ids into `labels`).
    references: gold labels (same form as predictions).
    labels: label names in a fixed order; it orders the per-class scores and the confusion matrix
        and defines macro-F1's classes. Default: the labels seen, sorted.
Returns:
    accuracy, macro_f1, per_class {label: {precision, recall, f1, support}}, n, f_avg (when favor and
    against are labels), claim_f1 (when not_claim is a label), labels, confusion_matrix (rows gold,
    columns predicted).
Examples:
    >>> metric = evaluate.load("path/to/stance_metric")
    >>> r = metric.compute(predictions=["favor", "against"], references=["favor", "favor"],
    ...                    labels=["favor", "against", "neutral"])
    >>> r["accuracy"], r["f_avg"]
    (0.5, 0.3333333333333333)
"""

_CITATION = """
@inproceedings{mohammad-etal-2016-semeval,
  title = {SemEval-2016 Task 6: Detecting Stance in Tweets},
  author = {Mohammad, Saif and Kiritchenko, Svetlana and Sobhani, Parinaz and Zhu, Xiaodan and Cherry, Colin},
  booktitle = {Proceedings of the 10th International Workshop on Semantic Evaluation (SemEval-2016)},
  year = {2016},
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class StanceMetric(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
                datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
            ],
        )

    def _compute(self, predictions, references, labels=None):
        if predictions and isinstance(predictions[0], int) or references and isinstance(references[0], int):
            if labels is None:
                raise ValueError("integer predictions need `labels` (the names of the ids, in order)")
            predictions = [labels[i] for i in predictions]
            references = [labels[i] for i in references]
        labels = list(labels) if labels is not None else sorted(set(references) | set(predictions))
        out = classification_metrics(references, predictions, labels)
        out["labels"] = labels
        out["confusion_matrix"] = confusion(references, predictions, labels)
        return out
