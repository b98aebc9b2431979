"""Metric learning: triplet-loss training of embeddings from "closer than" judgements."""
from .data import MetricData, read_metric_data
from .miners import MINERS
from .model import EncoderEmbeddings
from .triplet import Triplet

__all__ = ["MetricData", "read_metric_data", "EncoderEmbeddings", "Triplet", "MINERS"]
