"""`zoo` stays light: users who only load models must not pay for torchvision, sklearn, matplotlib or gradio."""

import subprocess
import sys


def test_zoo_imports_no_heavy_packages():
    code = (
        "import sys, zoo, zoo.hub, zoo.leaderboard, zoo.sketch, hubconf\n"
        "heavy = {'torchvision', 'sklearn', 'matplotlib', 'gradio', 'pandas', 'scipy', 'PIL'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
