"""The benchmark's inputs are pinned: the drawn set and the robust recipe draw with fonts shipped in
training/fonts/ (each checked against its sha256, each family's licence beside it), so the set is the same
bytes on every machine, with or without the system's font packages. (That a process which cannot see a system
font builds the pinned bytes is checked end to end in test_wheel.py and test_space.py: both evaluate a digits
model with the system fonts hidden and compare the set's digest with ``drawn.SHA256``.)"""

import hashlib
import shutil
import subprocess
import sys

import pytest

from training import augment, drawn, glyphs

from conftest import ROOT


def test_every_shipped_font_is_pinned_and_licensed():
    shipped = {p.relative_to(glyphs.FONT_DIR).as_posix() for p in glyphs.FONT_DIR.glob("*/*") if p.name != "LICENSE"}
    assert shipped == set(glyphs.manifest()), "every font file has a line in SHA256SUMS and every line a file"
    for name, digest in glyphs.manifest().items():
        assert hashlib.sha256(glyphs.font_file(name).read_bytes()).hexdigest() == digest
        licence = (glyphs.FONT_DIR / name).parent / "LICENSE"
        assert "License" in licence.read_text(encoding="utf-8"), f"{name} has no licence beside it"
    assert set(drawn.FONTS) | set(augment.PRINT_FONTS) == set(glyphs.manifest())
    assert not set(drawn.FONTS) & set(augment.PRINT_FONTS), "the robust recipe never draws the benchmark's faces"


def test_a_changed_or_unknown_font_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "fonts"
    shutil.copytree(glyphs.FONT_DIR, copy)
    target = copy / drawn.FONTS[0]
    target.write_bytes(target.read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(glyphs, "FONT_DIR", copy)
    glyphs.font_file.cache_clear()
    try:
        with pytest.raises(glyphs.FontError, match=f"the font {drawn.FONTS[0]} has sha256 .* as fonts/SHA256SUMS pins"):
            glyphs.font_file(drawn.FONTS[0])
        with pytest.raises(glyphs.FontError, match="not a shipped font"):
            glyphs.font_file("dejavu/NoSuchFace.ttf")
        target.unlink()
        with pytest.raises(glyphs.FontError, match="missing from this installation"):
            glyphs.font_file(drawn.FONTS[0])
    finally:
        glyphs.font_file.cache_clear()


def test_the_fonts_cannot_be_seen_from_a_wrapped_process(without_system_fonts):
    code = "import os; print(sum(len(fs) for d in ('/usr/share/fonts',) for _, _, fs in os.walk(d)))"
    p = subprocess.run(without_system_fonts([sys.executable, "-c", code]), capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == "0", p.stderr


@pytest.mark.slow
def test_verify_refuses_numbers_from_another_version_of_the_drawn_set(tmp_path, capsys):
    """A card measured on another drawn set (an older version, or another machine's bytes) is not compared
    number for number: --verify says the sets differ. Run in this process, so the robustness sets it scores on
    are made once for every evaluation of the suite (test_cli checks `python -m training evaluate`'s exit code)."""
    from huggingface_hub import ModelCard

    from training.__main__ import main as train_main

    hub = tmp_path / "hub"
    shutil.copytree(ROOT / "zoo" / "checkpoints" / "mnist-mlp", hub / "mnist-mlp")
    card = ModelCard.load(hub / "mnist-mlp" / "README.md")
    card.data.dlfs_zoo["benchmarks"]["drawn"] = {"version": "0", "sha256": drawn.SHA256}
    card.save(hub / "mnist-mlp" / "README.md")
    assert train_main(["evaluate", "mnist-mlp", "--hub", str(hub), "--verify"]) == 1
    err = capsys.readouterr().err
    said = f"the card was measured on drawn v0 ({drawn.SHA256[:12]}), this machine built drawn v{drawn.VERSION}"
    assert said in err
    assert "not comparable" in err
