"""`zoo` stays light: users who only load models must not pay for torchvision, sklearn, matplotlib or gradio."""

import os
import subprocess
import sys

from conftest import ROOT


def test_zoo_imports_no_heavy_packages():
    code = (
        "import sys, zoo, zoo.hub, zoo.leaderboard, zoo.sketch, hubconf\n"
        "heavy = {'torchvision', 'sklearn', 'matplotlib', 'gradio', 'pandas', 'scipy', 'PIL'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# a child process: the CLI's own main() on a small generated store, then what it imported
NO_TORCH = """
import contextlib, io, sys
from zoo.__main__ import main
for argv in (["leaderboard", "--json"], ["list"]):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(argv) == 0
    assert out.getvalue().strip()
print(sorted(m for m in sys.modules if m.split(".")[0] == "torch" or m.startswith("zoo.models")))
"""


def test_the_leaderboard_and_list_commands_never_import_torch(tmp_path):
    """`python -m zoo leaderboard` is a cold process: `import torch` alone takes seconds (issue 32's 1 s target)."""
    from bench.results_store import write_store

    write_store(tmp_path / "results", 20)
    env = {**os.environ, "DLFS_ZOO_RESULTS": str(tmp_path / "results"), "DLFS_ZOO_CACHE": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"


def test_the_names_that_need_torch_are_there_on_first_use():
    """zoo's lazy names (PEP 562) still answer: the architectures, `dir(zoo)`, `from zoo import *`."""
    code = (
        "import sys, zoo\n"
        "assert 'torch' not in sys.modules and 'MNISTConvNet' in dir(zoo)\n"
        "from zoo import *\n"
        "from zoo import ENTRIES, PyTorchModel\n"
        "assert zoo.MNISTConvNet is zoo.ARCHITECTURES['MNISTConvNet'] and issubclass(zoo.MNISTConvNet, PyTorchModel)\n"
        "assert set(zoo.ARCHITECTURES) <= set(zoo.__all__) and callable(zoo.leaderboard) and callable(zoo.load)\n"
        "print(type(zoo.load('mnist-convnet-book')).__name__)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "MNISTConvNet"


def test_the_gates_import_the_copy_checks_on_first_use(tmp_path):
    """A fresh process whose first use of ``zoo.submissions`` is ``check`` (the app's Submit tab) gets the gate's
    sentence, not a RecursionError from the lazy ``copies`` attribute."""
    code = (
        "from zoo.submissions import SubmissionError, check\n"
        f"try:\n    check({str(tmp_path / 'nothing')!r})\nexcept SubmissionError as e:\n    print('refused:', e)\n"
        "import zoo.submissions\nprint(zoo.submissions.copies.__name__)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("refused:") and run.stdout.endswith("zoo.submissions.copies\n")
