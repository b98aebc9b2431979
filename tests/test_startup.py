"""Start-up: ``import embedkit`` and ``embedkit --help`` import no heavy dependency (numba, torch,
scikit-learn, gensim, scipy); they load where they are used. The figures are in docs/benchmarks.md
("Start-up"); this file tests the behaviour, not the time."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

HEAVY = ["numba", "torch", "sklearn", "gensim", "scipy", "torch_geometric", "implicit", "sentencepiece",
         "pytorch_metric_learning", "matplotlib", "pandas", "networkx"]


def _imported_after(code: str) -> list[str]:
    probe = code + textwrap.dedent(f"""
        import json, sys
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
    """)
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_import_embedkit_imports_no_heavy_module():
    assert _imported_after("import embedkit") == []


def test_cli_help_imports_no_heavy_module():
    code = textwrap.dedent("""
        import contextlib, io
        from embedkit_cli.main import cli
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                cli.main(["--help"], prog_name="embedkit", standalone_mode=False)
            except SystemExit:
                pass
        assert "explore" in out.getvalue() and "train" in out.getvalue(), out.getvalue()
    """)
    assert _imported_after(code) == []


def test_methods_are_listed_without_importing_their_engines():
    assert _imported_after("import embedkit as ek\nassert 'node2vec' in ek.methods()") == []


def test_lazy_kernels_call_kernels_and_prange(tmp_path):
    """embedkit/_jit.py: kernels compile on first use, call each other (inlined or not) and run prange."""
    mod = tmp_path / "ek_lazy_kernels.py"
    mod.write_text(textwrap.dedent("""
        import numpy as np
        from embedkit._jit import njit, prange

        @njit(inline="always")
        def square(x):
            return x * x

        @njit
        def plus_one(x):
            return x + 1.0

        @njit(parallel=True)
        def total(values):
            out = np.zeros(values.shape[0])
            for i in prange(values.shape[0]):
                out[i] = plus_one(square(values[i]))
            return out.sum()
    """))
    code = textwrap.dedent(f"""
        import sys, json
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import ek_lazy_kernels as k
        before = "numba" in sys.modules
        result = k.total(np.arange(10.0))
        import numba
        from numba.core.registry import CPUDispatcher
        print(json.dumps([before, float(result), isinstance(k.square, CPUDispatcher),
                          k.prange is numba.prange, list(k.total.signatures) != []]))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    before, result, rebound, prange_is_numba, compiled = json.loads(res.stdout.strip().splitlines()[-1])
    assert before is False
    assert result == float(np.sum(np.arange(10.0) ** 2 + 1))
    assert rebound and prange_is_numba and compiled
