"""Copies named (issue 35, item 3): weights within a relative distance of 1e-3 of an existing row of the same
architecture (a shipped checkpoint or a finished submission) are refused as a copy of that row, by name; a model
trained on its own is admitted; the check reads an index, not every row's files."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import zoo
from zoo.__main__ import main as zoo_main
from zoo.catalog import ENTRIES
from zoo.models import sha256_file
from zoo.submissions import Store, answers, check, copies

from conftest import HUB


def _state(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _respell(folder: Path, name: str, change) -> Path:
    """The folder's weights changed by ``change``, under ``name``, the config declaring the new sha256."""
    weights = {k: change(v) if v.is_floating_point() else v for k, v in load_file(folder / "model.safetensors").items()}
    save_file(weights, folder / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    config |= {"name": name, "weights_sha256": sha256_file(folder / "model.safetensors")}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _noise(relative: float, seed: int = 1):
    """Noise of ``relative`` times each tensor's norm (so of the whole set's norm too)."""
    g = torch.Generator().manual_seed(seed)

    def add(t: torch.Tensor) -> torch.Tensor:
        n = torch.randn(t.shape, generator=g)
        return t + n * (relative * t.norm() / n.norm())

    return add


def _refused(folder: Path, store: Path, capsys) -> str:
    before, board = _state(store), zoo.leaderboard()
    capsys.readouterr()
    assert zoo_main(["submit", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ")
    assert _state(store) == before and zoo.leaderboard() == board
    return err


def test_a_near_copy_of_a_shipped_checkpoint_is_refused_naming_it(store, tmp_path, capsys):
    folder = _respell(shutil.copytree(HUB / "house-prices-book", tmp_path / "s"), "reader-lookalike", _noise(1e-6))
    err = _refused(folder, store, capsys)
    assert err == (
        "error: these weights are a copy of house-prices-book (relative distance 1e-06 < 0.001); "
        "submit a model you trained"
    )


def test_a_near_copy_of_a_finished_submission_is_refused_naming_it(houses_variant, store, tmp_path, capsys):
    folder = _respell(shutil.copytree(houses_variant, tmp_path / "s"), "reader-houses-copy", _noise(5e-4))
    assert "a copy of reader-houses (relative distance 0.0005 < 0.001)" in _refused(folder, store, capsys)


def test_the_variant_trained_on_its_own_was_admitted_and_indexed(houses_variant, store):
    """The store's fixture submitted the variant: it finished although its recipe is house-prices-book's."""
    theirs = load_file(houses_variant / "model.safetensors")
    book = load_file(HUB / "house-prices-book" / "model.safetensors")
    assert copies.distance(theirs, book) > 100 * copies.THRESHOLD
    (request,) = Store().requests()
    assert request["status"] == "finished"
    index = copies.load(store / copies.INDEX_NAME, store / "models")
    assert list(index.names) == ["reader-houses"] and index.sketches.shape == (1, copies.DIM)


@pytest.mark.parametrize("scale", [1.5, 1.002])
def test_a_different_model_passes_the_copy_gate(scale, store, tmp_path):
    """Scaled weights are another model: 1.002 lies just past the threshold (a relative distance of 2e-3)."""
    folder = _respell(shutil.copytree(HUB / "house-prices-book", tmp_path / "s"), "reader-scaled", lambda t: t * scale)
    assert check(folder, store=Store(store)).name == "reader-scaled"


def test_the_sketch_never_lengthens_a_difference():
    """The filter can drop no real copy: even noise aligned with the sketch's own signs is never overestimated."""
    g = torch.Generator().manual_seed(0)
    base = {"a": torch.randn(300, 40, generator=g), "b": torch.randn(77, generator=g)}
    fb = copies.fingerprint("X", base)
    adversarial = {}  # each entry of the sign the sketch gives it: the worst case of a signed hashing
    for i, k in enumerate(sorted(base)):
        rng = np.random.default_rng([copies.SEED, i, base[k].numel()])
        rng.integers(0, copies.DIM, base[k].numel())  # the buckets, drawn first
        signs = rng.integers(0, 2, base[k].numel()) * 2.0 - 1.0
        adversarial[k] = torch.from_numpy(signs).float().view(base[k].shape)
    for noise in [adversarial, *({k: torch.randn(v.shape, generator=g) for k, v in base.items()} for _ in range(20))]:
        other = {k: base[k] + 1e-4 * noise[k] for k in base}
        sketched = np.linalg.norm(copies.fingerprint("X", other).sketch - fb.sketch)
        assert sketched <= copies.distance(other, base) * fb.norm * (1 + 1e-9)


def test_ten_thousand_rows_are_filtered_on_the_index_alone(tmp_path):
    """10,000 rows of the same architecture whose files do not exist: only the one true candidate is read."""
    book = load_file(HUB / "house-prices-book/model.safetensors")
    fp = copies.fingerprint("HousePricesModel", book)
    rng = np.random.default_rng(0)
    n = 10_000
    fake = copies.Index(
        tmp_path / "nowhere",
        np.array([f"row-{i}" for i in range(n)]),
        np.full(n, fp.signature),
        fp.norm * rng.uniform(0.9, 1.1, n),
        fp.sketch + rng.normal(0, 0.1 * fp.norm / copies.DIM**0.5, (n, copies.DIM)),
    )
    near = _noise(1e-5)
    start = time.perf_counter()
    assert copies.check_copy("HousePricesModel", {k: near(v) for k, v in book.items()}, [fake]) == (True, "")
    assert time.perf_counter() - start < 1.0  # milliseconds in fact (see BENCHMARKS.md); a file scan would raise
    shipped = copies.shipped()
    verdict = copies.check_copy("HousePricesModel", {k: near(v) for k, v in book.items()}, [fake, shipped])
    assert verdict[0] is False and "copy of house-prices-book" in verdict[1]


def test_a_near_copy_admitted_while_its_original_was_pending_fails_before_it_is_ranked(houses_variant, tmp_path):
    """Two near-identical submissions admitted together: the first finishes, the second is failed as its copy."""
    store = Store(tmp_path / "results")
    first = _respell(shutil.copytree(houses_variant, tmp_path / "a"), "reader-first", lambda t: t * 1.25)
    second = _respell(shutil.copytree(first, tmp_path / "b"), "reader-second", _noise(1e-6))
    keys = [store.admit(check(f, store=store), f) for f in (first, second)]  # the index has neither yet
    assert store.evaluate(keys[0], timeout=120)["status"] == "finished"
    record = store.evaluate(keys[1], timeout=120)
    assert record["status"] == "failed" and "a copy of reader-first" in record["reason"]
    assert [r["model"] for r in store.results()] == ["reader-first"]


def _hidden_units_reordered(folder: Path, name: str) -> Path:
    """The same function under other weights: dense1's 13 units permuted, dense2 reading them in that order."""
    state = load_file(folder / "model.safetensors")
    order = torch.randperm(13, generator=torch.Generator().manual_seed(3))
    state["dense1.linear.weight"] = state["dense1.linear.weight"][order].contiguous()
    state["dense1.linear.bias"] = state["dense1.linear.bias"][order].contiguous()
    state["dense2.linear.weight"] = state["dense2.linear.weight"][:, order].contiguous()
    save_file(state, folder / "model.safetensors")
    return _respell(folder, name, lambda t: t)


def test_a_copy_with_its_hidden_units_reordered_is_named_by_its_answers(tmp_path):
    """Far from every row by its weights, the same model by what it computes: failed before it is ranked,
    naming the row it copies; the store keeps no result and no answers for it."""
    store = Store(tmp_path / "results")
    folder = _hidden_units_reordered(shutil.copytree(HUB / "house-prices-book", tmp_path / "s"), "reader-reordered")
    book = load_file(HUB / "house-prices-book" / "model.safetensors")
    assert copies.distance(load_file(folder / "model.safetensors"), book) > 0.5  # the weights' gate lets it in
    key = store.admit(check(folder, store=store), folder)
    record = store.evaluate(key, timeout=600)
    assert record["status"] == "failed"
    assert record["reason"].startswith("this model's answers on the benchmark are a copy of house-prices-book's")
    assert store.results() == [] and answers.load(store.root / answers.INDEX_NAME).names.size == 0
    zoo_rows = answers.load(answers.zoo_index_path())  # every shipped houses model, sketched once per machine
    houses = sorted(e.name for e in ENTRIES.values() if e.task == "houses" and (HUB / e.name).is_dir())
    assert set(houses) <= set(zoo_rows.names.tolist())


def test_a_model_of_its_own_is_ranked_and_its_answers_kept(houses_variant, tmp_path):
    """Trained on its own (another seed of the book's recipe): its answers are far from every row; finished,
    and its answers indexed so that a copy of it is caught next."""
    store = Store(tmp_path / "results")
    first = _respell(shutil.copytree(houses_variant, tmp_path / "a"), "reader-own", lambda t: t)
    assert store.evaluate(store.admit(check(first, store=store), first), timeout=600)["status"] == "finished"
    assert answers.load(store.root / answers.INDEX_NAME).names.tolist() == ["reader-own"]
    second = _hidden_units_reordered(shutil.copytree(first, tmp_path / "b"), "reader-own-reordered")
    record = store.evaluate(store.admit(check(second, store=store), second), timeout=600)
    assert record["status"] == "failed" and "a copy of reader-own's" in record["reason"]


def test_answers_sketches_separate_copies_from_models_by_orders_of_magnitude():
    """The sketch's estimate of a relative distance: a 1e-6 perturbation reads far below the threshold, two
    unrelated answer vectors far above it, over the lengths the tasks use."""
    rng = np.random.default_rng(0)
    for n in (102, 100_000, 200_704):
        a = rng.normal(-3, 2, n)
        near = answers.sketch(a + 1e-6 * np.linalg.norm(a) / np.sqrt(n) * rng.normal(size=n))
        other = answers.sketch(a + 0.05 * np.linalg.norm(a) / np.sqrt(n) * rng.normal(size=n))
        assert answers.distances(near[None], answers.sketch(a))[0] < answers.THRESHOLD / 100
        assert answers.distances(other[None], answers.sketch(a))[0] > answers.THRESHOLD * 10
