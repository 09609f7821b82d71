"""The leaderboard at scale (issue 32, part 3) on a generated store of 2,000 finished submissions: the store is read
incrementally (only what changed, whoever changed it), the app's table is paged, filtered and sorted right, the CLI's
JSON stays strict, and the reads are fast (bounds with a wide margin; BENCHMARKS.md has the measured figures)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.results_store import write_store
from demos.state import Zoo
from demos.tabs.leaderboard import PAGE_ROWS, PLOT_POINTS, RANK, board_page, board_plot, board_rows, page_number
from zoo import board_cache
from zoo.basics import sha256_file
from zoo.board_cache import leaderboard_json
from zoo.leaderboard import leaderboard, read_json, to_json
from zoo.submissions import Store, filecache, moderation

from conftest import ROOT

ROWS = 2_000

# another process changing the store the way the CLI and workers do (Store's own writers): a result re-evaluated,
# a request marked failed
CHANGE = """
import json, sys
from zoo.submissions import Store
store, changed, failed = Store(sys.argv[1]), sys.argv[2], sys.argv[3]
record = json.loads((store.root / "results" / f"{changed}.json").read_text())
record["metrics"]["drawn"] = 0.123456
store._write("results", changed, record)
store.update(failed, status="failed", reason="the evaluation ran past its time limit of 900 s")
"""


def strict(text: str):
    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def big_store(tmp_path, monkeypatch) -> tuple[Path, list[str]]:
    """A results store of ROWS generated finished submissions, named by $DLFS_ZOO_RESULTS, with a cache of its own;
    the generated files count as old enough to trust (the racy case has its own test)."""
    root = tmp_path / "results"
    keys = write_store(root, ROWS)
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(root))
    monkeypatch.setenv("DLFS_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(filecache, "RACY_NS", 0)
    return root, keys


def cli_rows(root: Path, cache: Path) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "zoo", "leaderboard", "--json"],
        cwd=ROOT,
        env={**os.environ, "DLFS_ZOO_RESULTS": str(root), "DLFS_ZOO_CACHE": str(cache)},
        capture_output=True,
        text=True,
        check=True,
    )
    return strict(out.stdout)


def test_the_store_is_read_again_only_where_another_process_changed_it(big_store, tmp_path):
    """A second read parses nothing; after another process re-evaluates one result, marks one request failed, one
    result file is deleted and a submission is added, the next read parses exactly the 4 new or changed files and
    sees every change; a new process (the CLI, starting from the cache file) sees them too."""
    root, keys = big_store
    store = Store(root)
    first = store.results()
    assert len(first) == ROWS
    cache = store.cache
    before = cache.reads
    assert store.results() == first and cache.reads == before  # nothing changed: nothing read
    assert (tmp_path / "cache").is_dir() and len(list((tmp_path / "cache").iterdir())) == 1  # the cache file

    changed, failed, deleted = keys[0], keys[1], keys[2]
    subprocess.run([sys.executable, "-c", CHANGE, str(root), changed, failed], cwd=ROOT, check=True)
    (root / "results" / f"{deleted}.json").unlink()
    (late,) = write_store(root, 1, seed=7, prefix="late")

    now = {Store.key(r["model"], r["sha256"]): r for r in store.results()}
    assert cache.reads - before == 4  # the changed result, the failed request, the late request and result
    assert now[changed]["metrics"]["drawn"] == 0.123456
    assert failed not in now and deleted not in now and late in now and len(now) == ROWS - 1

    rows = {r["model"]: r for r in cli_rows(root, tmp_path / "cache") if r["origin"] == "submitted"}
    assert rows.keys() == {r["model"] for r in now.values()}
    assert rows[now[changed]["model"]]["metrics"]["drawn"] == 0.123456
    assert all(r["verified"] for r in rows.values())  # the weights hashed (or taken from the cache) match


def age(root: Path, step: int) -> None:
    """The store's files written in the last minute made old enough to trust (``filecache.RACY_NS``), a different
    age at each step; the others keep their stamps."""
    old, recent = time.time_ns() - 3600 * 10**9 + step * 10**9, time.time_ns() - 60 * 10**9
    for path in root.rglob("*"):
        if path.stat().st_mtime_ns > recent:
            os.utime(path, ns=(old, old))


def test_the_kept_json_is_printed_until_a_file_it_came_from_changes(tmp_path):
    """`leaderboard --json` keeps its text under the stamps of every file it came from: a new process prints it
    without ranking (a planted text is what it prints), and a result changed, a result deleted, a submission added,
    a weights file edited or a flag set by another process shows up on the very next call."""
    root, cache = tmp_path / "results", tmp_path / "cache"
    keys = write_store(root, 30)
    age(root, 0)
    rows = cli_rows(root, cache)
    (kept,) = cache.glob("*.board.json")
    key = kept.read_text().partition("\n")[0]
    kept.write_text(f"{key}\n[]")
    assert cli_rows(root, cache) == []  # nothing changed: the kept text, as it is
    store = Store(root)
    changed, failed, deleted = keys[0], keys[1], keys[2]

    def step(n: int) -> dict[str, dict]:
        age(root, n)
        return {r["model"]: r for r in cli_rows(root, cache) if r["origin"] == "submitted"}

    subprocess.run([sys.executable, "-c", CHANGE, str(root), changed, failed], cwd=ROOT, check=True)
    now = step(1)
    assert now[store.request(changed)["model"]]["metrics"]["drawn"] == 0.123456
    assert store.request(failed)["model"] not in now and len(now) == sum(r["origin"] == "submitted" for r in rows) - 1
    (root / "results" / f"{deleted}.json").unlink()
    assert store.request(deleted)["model"] not in step(2)
    (late,) = write_store(root, 1, seed=7, prefix="late")
    assert store.request(late)["model"] in step(3)
    name = store.request(keys[3])["model"]
    weights = root / "models" / name / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"!")  # in place, same size: a new mtime
    assert step(4)[name]["verified"] is False
    flag = f"from zoo.submissions import Store, moderation; moderation.flag(Store({str(root)!r}), {name!r}, 'a copy')"
    subprocess.run([sys.executable, "-c", flag], cwd=ROOT, check=True)
    assert step(5)[name]["note"] == "a copy"


def test_after_another_process_changed_the_store_only_the_rows_of_its_changed_files_are_built_again(
    big_store, monkeypatch
):
    """`leaderboard --json` after one result was re-evaluated and another request marked failed reads those two
    units' files only (4 files, 1 weights file hashed): the other rows come kept, neither parsed nor encoded again.
    Its text is what ranking every row from scratch prints, then too after a withdrawal and a flag."""
    root, keys = big_store
    assert leaderboard_json() == to_json(leaderboard())  # nothing kept yet: every row built
    subprocess.run([sys.executable, "-c", CHANGE, str(root), keys[0], keys[1]], cwd=ROOT, check=True)
    reads, hashes = [], []
    monkeypatch.setattr(board_cache, "read_json", lambda path: reads.append(path) or read_json(path))
    monkeypatch.setattr(board_cache, "sha256_file", lambda path: hashes.append(path) or sha256_file(path))
    text = leaderboard_json()
    assert sorted(Path(p).stem for p in reads) == sorted([keys[0], keys[0], keys[1], keys[1]]) and len(hashes) == 1
    assert text == to_json(leaderboard())
    assert json.loads(text) and 0.123456 in [r["metrics"].get("drawn") for r in json.loads(text)]
    store = Store(root)
    gone, flagged = store.request(keys[2])["model"], store.request(keys[3])["model"]
    moderation.withdraw(store, gone, by="someone", operator=True)
    moderation.flag(store, flagged, "a copy", "https://example.org/why")
    reads.clear()
    text = leaderboard_json()
    assert text == to_json(leaderboard()) and gone not in text and '"note": "a copy"' in text
    assert len(reads) == 2  # the withdrawn request and its result; a flag changes no kept row


def test_a_file_edited_in_place_within_the_clock_tick_is_read_again(tmp_path, monkeypatch):
    """An in-place edit that keeps the size and the mtime (same clock tick) leaves the stamp as it was: a file that
    was young when read is not trusted, so the edit is seen; once old, the file is trusted and not read again."""
    monkeypatch.setenv("DLFS_ZOO_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "requests"
    folder.mkdir()
    path = folder / "a.json"
    path.write_text('{"status": "pending"}')
    cache = filecache.FileCache(tmp_path / "cache" / "x.json")
    assert cache.folder(folder, filecache_read) == {"a.json": {"status": "pending"}}
    mtime = path.stat().st_mtime_ns
    with open(path, "r+") as f:  # in place: same inode, same size
        f.write('{"status": "running"}')
    os.utime(path, ns=(mtime, mtime))  # and the same clock tick
    assert cache.folder(folder, filecache_read) == {"a.json": {"status": "running"}}
    old = time.time_ns() - 3600 * 10**9
    os.utime(path, ns=(old, old))
    cache.folder(folder, filecache_read)
    reads = cache.reads
    assert cache.folder(folder, filecache_read) == {"a.json": {"status": "running"}} and cache.reads == reads


def filecache_read(path: Path):
    return json.loads(path.read_text())


def test_the_tab_pages_filters_and_sorts_the_right_rows(big_store):
    """Pages of PAGE_ROWS in rank order, the last holding the rest, a page past the end shows the last; the filter
    keeps exactly the names containing it; a metric sorts best first, latency smallest first; the plot is capped."""
    pool = Zoo()
    pool.refresh()
    digits = board_rows(pool, "digits")
    generated = [r for r in digits if r.origin == "submitted"]
    assert len(generated) == sum(k.startswith("gen-digits-") for k in big_store[1]) > 600
    assert any(r.origin == "zoo" for r in digits)  # the zoo's own rows beside the submitted ones
    assert [r.rank for r in digits] == sorted(r.rank for r in digits)

    rows, page, pages, total = board_page(pool, "digits")
    assert (page, pages, total) == (1, math.ceil(len(digits) / PAGE_ROWS), len(digits))
    assert [r[1] for r in rows] == [r.model for r in digits[:PAGE_ROWS]]
    last, page, _, _ = board_page(pool, "digits", page=10**6)
    assert page == pages and [r[1] for r in last] == [r.model for r in digits[(pages - 1) * PAGE_ROWS :]]
    assert [page_number(v) for v in (None, "", "x", float("nan"), 0, -3, 2.7, "4")] == [1, 1, 1, 1, 1, 1, 2, 4]

    found, _, _, total = board_page(pool, "digits", "  GEN-DIGITS-001 ")
    expected = [r.model for r in digits if "gen-digits-001" in r.model]
    assert total == len(expected) > 0 and [r[1] for r in found] == expected[:PAGE_ROWS]
    assert board_page(pool, "digits", "no-such-model")[0] == []

    by_drawn = board_rows(pool, "digits", sort="drawn")
    values = [r.metrics["drawn"] for r in by_drawn if "drawn" in r.metrics]
    assert values == sorted(values, reverse=True) and len(by_drawn) == len(digits)
    by_latency = [r.latency_ms for r in board_rows(pool, "digits", sort="CPU ms") if r.latency_ms is not None]
    assert by_latency == sorted(by_latency)
    errors = [r.metrics["mae"] for r in board_rows(pool, "houses", sort="mae") if "mae" in r.metrics]
    assert errors == sorted(errors)  # lower is better: smallest first
    plot = board_plot(pool, "digits")
    assert (plot["entry"] == "submitted").sum() == PLOT_POINTS and (plot["entry"] != "submitted").sum() > 0


def test_the_pool_re_ranks_only_when_the_store_changed(big_store):
    """``Zoo.current`` keeps its ranking while nothing changed, and re-ranks when another process marks a request
    failed: the row is gone from the table."""
    root, keys = big_store
    pool = Zoo()
    pool.refresh()
    board = pool.board
    assert pool.current().board is board  # nothing changed: not re-ranked
    name = Store(root).request(keys[1])["model"]
    assert pool.row(name) is not None
    subprocess.run([sys.executable, "-c", CHANGE, str(root), keys[0], keys[1]], cwd=ROOT, check=True)
    assert pool.current().board is not board and pool.row(name) is None


def test_the_json_stays_strict_with_a_result_that_lies(big_store, tmp_path):
    """A result file hand-edited to hold NaN is left out of the ranking; the printed JSON and the cache file parse
    under a strict parser (the lying record is kept in memory only)."""
    root, keys = big_store
    path = root / "results" / f"{keys[5]}.json"
    record = json.loads(path.read_text())
    record["metrics"]["drawn"] = float("nan")
    path.write_text(json.dumps(record))  # the stdlib writes NaN
    rows = cli_rows(root, tmp_path / "cache")
    assert sum(r["origin"] == "submitted" for r in rows) == ROWS - 1
    assert record["model"] not in {r["model"] for r in rows}
    assert len(leaderboard()) == len(rows)  # in-process the same rows
    (cache_file,) = [p for p in (tmp_path / "cache").iterdir() if p.name.endswith(".json") and ".board." not in p.name]
    strict(cache_file.read_text())  # the read cache the in-process call saved


def test_reading_the_big_store_is_fast(big_store):
    """Bounds with a wide margin (the machine is shared): once read, the ranking of 2,000 submissions is rebuilt in
    under a second and a filtered page is cut in under 300 ms."""
    leaderboard()
    start = time.perf_counter()
    leaderboard()
    assert time.perf_counter() - start < 1.0
    pool = Zoo()
    pool.refresh()
    start = time.perf_counter()
    board_page(pool.current(), "digits", "gen-digits-01", RANK, 1)
    assert time.perf_counter() - start < 0.3
