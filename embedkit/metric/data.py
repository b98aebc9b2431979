"""What triplet training learns from: :class:`MetricData`, read once by :func:`read_metric_data`.

The reader lives in :mod:`embedkit.data.metric` with the other readers (the evaluators read triplets
and labels too); this module is the metric family's name for it.
"""
from ..data.metric import KINDS, MetricData, feature_table, read_metric_data

__all__ = ["MetricData", "read_metric_data", "feature_table", "KINDS"]
