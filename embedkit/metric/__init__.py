"""Metric learning: triplet-loss training of embeddings from "closer than" judgements."""
