"""The CPU-kernel pinning reaches every test run and every notebook kernel, not only runs started by make."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PINNED = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "OPENBLAS_CORETYPE")


def cpu_has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def test_no_plugin_imports_torch_before_the_pinning() -> None:
    import conftest

    assert not conftest.TORCH_IMPORTED_BEFORE_CONFTEST


@pytest.mark.skipif(not cpu_has_avx2(), reason="the pinned kernels are AVX2; this CPU has none")
def test_torch_uses_the_pinned_kernels() -> None:
    import torch

    assert os.environ["ATEN_CPU_CAPABILITY"] == "avx2"
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"


@pytest.mark.skipif(not cpu_has_avx2(), reason="the pinned kernels are AVX2; this CPU has none")
def test_openblas_in_a_new_process_uses_the_pinned_kernels() -> None:
    """NumPy/SciPy's OpenBLAS (scikit-learn's solvers) runs its Haswell (AVX2) kernels, also on an AVX-512 CPU."""
    code = (
        "import json, numpy, scipy.linalg\n"
        "from threadpoolctl import threadpool_info\n"
        "kinds = {i.get('architecture') for i in threadpool_info() if i['internal_api'] == 'openblas'}\n"
        "print(json.dumps(sorted(kinds)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(result.stdout) == ["Haswell"], result.stdout


@pytest.mark.skipif(not cpu_has_avx2(), reason="the pinned kernels are AVX2; this CPU has none")
def test_pytest_started_without_make_pins_the_kernels(tmp_path: Path) -> None:
    """``pytest`` run directly, with none of the variables exported, still gets AVX2 kernels."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_torch_uses_the_pinned_kernels",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


@pytest.mark.notebook
@pytest.mark.skipif(not cpu_has_avx2(), reason="the pinned kernels are AVX2; this CPU has none")
def test_papermill_kernels_inherit_the_pinning(tmp_path: Path) -> None:
    import nbformat
    import papermill

    code = (
        "import json, os, torch\n"
        f"print(json.dumps({{n: os.environ.get(n) for n in {PINNED!r}}} | "
        "{'capability': torch.backends.cpu.get_cpu_capability()}))"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    source, executed = tmp_path / "kernels.ipynb", tmp_path / "kernels.out.ipynb"
    nbformat.write(notebook, source)
    papermill.execute_notebook(str(source), str(executed), kernel_name="python3", progress_bar=False)
    output = nbformat.read(executed, as_version=4).cells[0].outputs[0]["text"]
    assert json.loads(output) == {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_CBWR": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
        "capability": "AVX2",
    }
