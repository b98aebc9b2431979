"""What triplet training learns from: :class:`MetricData`, read once by :func:`read_metric_data`.

The reader lives in :mod:`embedkit.data.metric` with the other readers (the evaluators read triplets
and labels too); this module is the metric family's name for it.
"""
import numpy as np

from ..data.metric import KINDS, MetricData, feature_table, read_metric_data
from ..exceptions import EmptyInputError
from ..kinds import BadInput, Form, InputKind, Sample, register_kind

__all__ = ["MetricData", "read_metric_data", "feature_table", "KINDS"]


# ------------------------------------------------------------------------------------ the input kind
def _read_triplets_arg(path):
    return path  # the triplet method reads its file itself (its kind= and features= apply)


def _triplets_sample() -> Sample:
    # 60 "closer than" triplets over 12 string keys (three different keys each)
    rows = (np.random.default_rng(1).integers(0, 4, (60, 3)) * 3 + np.array([0, 1, 2])).tolist()
    triplets = [(f"w{a}", f"w{p}", f"w{n}") for a, p, n in rows]
    keys = read_metric_data(triplets).keys

    def triplets_file(folder):
        path = folder / "triplets.tsv"
        path.write_text("".join("\t".join(t) + "\n" for t in triplets))
        return str(path)

    def empty_file(folder):
        path = folder / "empty.tsv"
        path.write_text("")
        return str(path)

    return Sample(triplets, lambda result, params: [(result, keys)], forms=(Form("a triplets file", triplets_file),),
                  bad_inputs=(BadInput("an empty triplets file", empty_file, EmptyInputError,
                                       "empty.tsv: no data lines"),))


register_kind(InputKind("triplets", "a file of 'anchor positive negative' lines (or labels, or pairs)",
                        _read_triplets_arg, sample=_triplets_sample))
