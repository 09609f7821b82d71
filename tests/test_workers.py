"""Evaluation workers on other machines: requests in a Hub dataset, claimed by optimistic commits. The local Hub
server refuses a commit on a stale head as the Hub does, so three real worker processes race for real: one is
killed mid-evaluation, and still every request is evaluated exactly once, none lost, none stuck. A request edited
by hand to lie is failed with its reason, and nothing else changes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import zoo
from bench.workers import house_model, publish, start_worker, stop
from zoo.submissions.app_queue import DatasetQueue
from zoo.submissions.remote_worker import run
from zoo.submissions.requests_dataset import Conflict, RequestsDataset

REPO = "reader/requests"
LEASE_S = 45  # the killed worker's request is taken again after this; a live evaluation takes a few seconds


@pytest.fixture
def dataset(hub_server, tmp_path) -> DatasetQueue:
    from huggingface_hub import HfApi

    HfApi().create_repo(REPO, repo_type="dataset")
    return DatasetQueue(REPO, root=tmp_path / "app-results", every=0)


def _state(server) -> dict[str, str]:
    """The dataset's files at its head (path -> blob)."""
    return server.store.files(f"datasets/{REPO}", server.store.refs(f"datasets/{REPO}")["main"])


def _worker(server, tmp_path: Path, i: int) -> tuple[subprocess.Popen, Path]:
    home = tmp_path / f"worker-{i}"
    return start_worker(server.endpoint, home, REPO, LEASE_S), home / "log.txt"


def _evaluating(pid: int) -> bool:
    """The worker ``pid`` has an evaluation child running (``python -m training evaluate``)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        try:
            if b"evaluate" in Path(f"/proc/{child}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def _wait(what, seconds: float, logs: list[Path]):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if got := what():
            return got
        time.sleep(0.5)
    tails = "\n".join(f"--- {log}\n{log.read_text()[-2000:]}" for log in logs)
    pytest.fail(f"timed out after {seconds} s\n{tails}")


def test_three_workers_one_killed_evaluate_every_request_exactly_once(dataset, hub_server, tmp_path, monkeypatch):
    """The race the Hub makes: 12 requests, 3 worker processes, one SIGKILLed while it evaluates. Its request is
    taken again once its lease ran out; every request ends finished with one result, made by one commit."""
    keys = [publish(dataset, house_model(tmp_path / "models", i)) for i in range(12)]
    reader = RequestsDataset(REPO)
    workers = [_worker(hub_server, tmp_path, i) for i in range(3)]
    logs = [log for _, log in workers]
    victim = workers[0][0]
    try:

        def held_by(proc: subprocess.Popen) -> str | None:
            """The worker's name in the dataset (the lease owner of what it holds), once it holds a request."""
            owners = {str(r.get("lease_owner")) for r, _ in reader.read().requests.values()}
            return next((o for o in owners if o.endswith(f"-{proc.pid}")), None)

        def victim_evaluates() -> bool:
            return _evaluating(victim.pid) and held_by(victim) is not None

        _wait(victim_evaluates, 120, logs)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        owned = [k for k, (r, _) in reader.read().requests.items() if r.get("lease_owner") == held_by(victim)]
        assert len(owned) == 1  # the request it was evaluating when it died, left running with its lease
        killed = owned[0]

        def all_settled() -> bool:
            return all(r["status"] in ("finished", "failed") for r, _ in reader.read().requests.values())

        _wait(all_settled, 150, logs)
    finally:
        for proc, _ in workers:
            stop(proc)

    requests = reader.read().requests
    assert sorted(requests) == sorted(keys)
    assert {k: r["status"] for k, (r, _) in requests.items()} == dict.fromkeys(keys, "finished"), logs[1].read_text()
    assert requests[killed][0]["attempts"] == 2  # the killed claim, then the one that finished
    assert all(r["attempts"] == 1 for k, (r, _) in requests.items() if k != killed)

    history = hub_server.store.history(f"datasets/{REPO}")
    for key in keys:  # exactly one commit wrote each result, and it is the commit that finished the request
        writes = [
            s
            for s, (tree, older) in _changes(history)
            if tree.get(f"results/{key}.json") != older.get(f"results/{key}.json")
        ]
        assert writes == [f"Finished {key}"], writes
        claims = [s for s, _ in history if s.startswith(f"Claim {key} for ")]
        assert len(claims) == requests[key][0]["attempts"]  # no two workers ever held it at once
    said = "".join(log.read_text() for log in logs)
    assert [said.count(f"{k}: finished in") for k in keys] == [1] * 12  # the killed claim said nothing more
    assert f"{killed}: claimed (attempt 2" in said and "/min" in said

    # the app: its store is fed from the dataset, and the ranking holds the 12 rows, verified
    assert sorted(dataset.sync()) == sorted(keys)
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(dataset.store.root))
    rows = {r.model: r for r in zoo.leaderboard("houses") if r.origin == "submitted"}
    assert sorted(rows) == sorted(f"reader-houses-{i:02d}" for i in range(12))
    assert all(r.verified for r in rows.values())
    assert [r["status"] for r in dataset.status()] == ["finished"] * 12


def _changes(history):
    """(summary, (tree, the tree before)) of each commit, newest first."""
    older = [tree for _, tree in history[1:]] + [{}]
    return [(summary, (tree, before)) for (summary, tree), before in zip(history, older, strict=True)]


def _edit(server, key: str, change) -> None:
    """Edit a request file by hand (a plain commit on the dataset, as a person with write access could)."""
    from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download

    path = f"requests/{key}.json"
    record = json.loads(Path(hf_hub_download(REPO, path, repo_type="dataset")).read_text())
    text = change(record)
    HfApi().create_commit(REPO, [CommitOperationAdd(path, text.encode())], commit_message="edit", repo_type="dataset")


LIES = {  # what is done to a published request -> the words of its refusal
    "reader-houses-00": (lambda r: json.dumps({k: v for k, v in r.items() if k != "task"}), "has no 'task'"),
    "reader-houses-01": (lambda r: json.dumps(r | {"attempts": float("nan")}), "not strict JSON"),
    "reader-houses-02": (
        lambda r: json.dumps(r | {"status": "running", "lease_owner": "nobody-1", "lease_expires": 1e12}),
        "a lease of more than 7 days",
    ),
    "reader-houses-03": (lambda r: json.dumps(r | {"architecture": "MNISTConvNet"}), "do not match"),
    "reader-houses-04": (lambda r: json.dumps(r | {"sha256": r["sha256"][:12] + "0" * 52}), "not the request's"),
}


def test_a_request_that_lies_is_failed_with_its_reason_and_nothing_else_changes(dataset, hub_server, tmp_path):
    """Five requests edited by hand (a field missing, NaN, a lease that never ends, a task and architecture that
    do not match, a sha256 that is not the files') and an honest one: one worker's claim fails the lies, each with
    its reason; the honest request, the uploaded files and the results are left as they were."""
    keys = {f"reader-houses-{i:02d}": publish(dataset, house_model(tmp_path / "models", i)) for i in range(6)}
    for name, (lie, _) in LIES.items():
        _edit(hub_server, keys[name], lie)
    before = _state(hub_server)
    said: list[str] = []
    assert run(REPO, once=True, say=said.append) == 0  # the lies that read as such on the way, then the sha256 lie
    after = _state(hub_server)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert changed == {f"requests/{keys[name]}.json" for name in LIES}  # only the lying requests' own files
    assert not any(p.startswith("results/") for p in after)
    requests = RequestsDataset(REPO).read().requests
    assert requests[keys["reader-houses-05"]][0]["status"] == "pending"
    for name, (_, words) in LIES.items():
        record, _ = requests[keys[name]]
        assert record["status"] == "failed" and words in record["reason"], record
        assert "\n" not in record["reason"] and "Traceback" not in record["reason"] and "/tmp" not in record["reason"]
    assert any(f"{keys['reader-houses-04']}: failed in" in line for line in said), said


def test_a_claim_that_loses_the_race_reads_again_and_takes_the_next_request(dataset, hub_server, tmp_path):
    """Two workers read the same head; the one whose commit comes second is refused (412) and takes the next."""
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    first, second = (publish(dataset, house_model(tmp_path / "models", i)) for i in range(2))
    stale = HfApi().dataset_info(REPO).sha
    winner = RequestsDataset(REPO).claim("machine-a-1")
    assert winner.key == first

    op = CommitOperationAdd("requests/x.json", b"{}")
    with pytest.raises(HfHubHTTPError) as refused:  # the server answers a stale parent as the Hub does
        HfApi().create_commit(REPO, [op], commit_message="late", repo_type="dataset", parent_commit=stale)
    assert refused.value.response.status_code == 412 and "A commit has happened since" in str(refused.value)

    class Late(RequestsDataset):
        """A worker whose first read is the head before the winner's claim."""

        reads = 0
        conflicts = 0

        def read(self):
            snapshot = super().read()
            self.reads += 1
            if self.reads == 1:
                snapshot.head = stale
                snapshot.requests[first] = (snapshot.requests[first][0] | {"status": "pending"}, None)
            return snapshot

        def commit(self, *args, **kwargs):
            try:
                return super().commit(*args, **kwargs)
            except Conflict:
                self.conflicts += 1
                raise

    late = Late(REPO)
    loser = late.claim("machine-b-2")
    assert late.conflicts == 1 and late.reads == 2
    assert loser.key == second and loser.record["lease_owner"] == "machine-b-2"
    requests = RequestsDataset(REPO).read().requests
    assert requests[first][0]["lease_owner"] == "machine-a-1" and requests[first][0]["attempts"] == 1


def test_a_request_the_hub_refuses_leaves_nothing_behind(dataset, hub_server, tmp_path):
    """The app keeps a submission only if its request was published: a Hub failure is one sentence, and the app's
    store is as it was (no pending request nobody will take, no files)."""
    from zoo.submissions import SubmissionError

    folder = house_model(tmp_path / "models", 0)
    hub_server.fail_with = 500
    with pytest.raises(SubmissionError) as refused:
        publish(dataset, folder)
    hub_server.fail_with = None
    assert "publish the request" in str(refused.value) and "\n" not in str(refused.value)
    assert dataset.store.requests() == [] and not any((dataset.store.root / "models").iterdir())


def test_a_worker_without_its_dataset_says_so_in_a_sentence(hub_server, capsys):
    from zoo.__main__ import main as zoo_main

    assert zoo_main(["worker", "--requests", "nobody/nothing", "--once"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: read the requests of nobody/nothing") and "404" in err and "\n" not in err


def test_the_app_given_a_requests_dataset_publishes_instead_of_evaluating(hub_server, tmp_path, monkeypatch):
    """The Submit tab's own path, configured by DLFS_ZOO_REQUESTS: the files are gated and published with a pending
    request (uploads under models/KEY/), its table shows the dataset's queue, and nothing is evaluated here."""
    from huggingface_hub import HfApi

    from demos.tabs.submit import admit, submission_rows
    from zoo.submissions.app_queue import app_queue

    HfApi().create_repo(REPO, repo_type="dataset")
    monkeypatch.setenv("DLFS_ZOO_REQUESTS", REPO)
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(tmp_path / "app-results"))
    queue = app_queue(every=0)
    assert isinstance(queue, DatasetQueue)
    folder = house_model(tmp_path / "models", 0)
    admit(queue, "", [str(folder / name) for name in ("config.json", "model.safetensors", "README.md")], "", "local")
    ((key, (record, why)),) = RequestsDataset(REPO).read().requests.items()
    assert why is None and record["status"] == "pending" and record["source"] == "upload" and record["attempts"] == 0
    assert f"models/{key}/model.safetensors" in _state(hub_server)
    assert queue.sync() == [] and [row[2] for row in submission_rows(queue)] == ["pending"]
    assert not (tmp_path / "app-results" / "results").exists()  # nothing was evaluated here


def test_results_may_go_to_a_dataset_of_their_own(hub_server, tmp_path, monkeypatch):
    """--results names another dataset: the result goes there (requests/ keeps the request, finished), and the app
    configured with both reads it back into its ranking."""
    from huggingface_hub import HfApi

    HfApi().create_repo(REPO, repo_type="dataset")
    queue = DatasetQueue(REPO, "reader/results", root=tmp_path / "app-results", every=0)
    key = publish(queue, house_model(tmp_path / "models", 7))
    said: list[str] = []
    assert run(REPO, "reader/results", once=True, say=said.append) == 0
    assert any(f"{key}: finished in" in line for line in said), said
    assert not any(p.startswith("results/") for p in _state(hub_server))
    store, results = hub_server.store, "datasets/reader/results"
    assert f"results/{key}.json" in store.files(results, store.refs(results)["main"])
    assert queue.sync() == [key]
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(queue.store.root))
    (row,) = [r for r in zoo.leaderboard("houses") if r.origin == "submitted"]
    assert row.model == "reader-houses-07" and row.verified and set(row.metrics) == {"mse", "mae"}
