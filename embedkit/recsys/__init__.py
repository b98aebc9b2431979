"""Recommenders on user-item interactions; each returns a :class:`FactorModel`.

``als`` (Hu, Koren & Volinsky 2008), ``bpr`` (Rendle et al. 2009), ``mf`` (biased
MF of ratings, Koren, Bell & Volinsky 2009) and the ``popular`` baseline.
"""
from . import als, bpr, mf, popular  # noqa: F401  (register the methods)
from .model import FactorModel

__all__ = ["FactorModel"]
