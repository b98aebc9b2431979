"""One device resolver; the CPU path does not need torch."""
from __future__ import annotations

import subprocess
import sys

import pytest

import embedkit as ek
from embedkit._device import resolve_device


def test_cpu_and_auto_resolve_to_cpu_without_a_gpu():
    import torch

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(None) == resolve_device("auto")
    assert resolve_device(torch.device("cpu")) == "cpu"


@pytest.mark.parametrize("bad", ["tpu", "cuda:x", "", 3])
def test_bad_device_names_the_parameter(bad):
    with pytest.raises(ek.InvalidParameterError, match="'device' must be 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device(bad, method="node2vec")


def test_cuda_without_a_gpu_says_so():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ek.InvalidParameterError, match="no CUDA device is visible"):
        resolve_device("cuda", method="node2vec")


def test_training_on_the_cpu_does_not_import_torch():
    code = ("import sys, embedkit as ek; "
            "ek.train('node2vec', ek.datasets.load('karate'), dim=4, walks_per_node=1, walk_length=5, "
            "workers=1, verbose=False); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    from embedkit._device import _gpu_driver_present

    assert out.stdout.strip() == ("True" if _gpu_driver_present() else "False")
