"""The first run says it compiles numba kernels; a later run, finding them cached, says nothing."""
import os
import subprocess
import sys
import textwrap


def test_first_run_announces_compilation_once(tmp_path):
    script = tmp_path / "one_kernel.py"
    script.write_text(textwrap.dedent("""
        import logging, sys
        logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
        from embedkit.engines._rng import seed_state

        print("result", int(seed_state(1, 2)) > 0)
    """))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    run = lambda: subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,  # noqa: E731
                                 check=True, cwd=tmp_path).stdout
    first, second = run(), run()
    assert "result True" in first and "result True" in second
    assert "compiling embedkit's numba kernels" in first and "compiled 1 numba kernels in" in first
    assert "compiling" not in second
