"""Load: concurrent gradio_client clients against the running app, no errors (full size in `make bench`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from gradio_client import Client

from bench.app_process import picture
from training.drawn import human_drawing

CLIENTS, REQUESTS = 10, 5  # `make bench` runs 50 x 20


@pytest.mark.load
def test_concurrent_clients_get_no_errors(app, tmp_path, mnist_sample):
    images, labels = mnist_sample
    paths = []
    for k in range(CLIENTS):
        p = tmp_path / f"c{k}.png"
        human_drawing(images[k * 7], np.random.default_rng(k), 500).save(p)
        paths.append((p, str(labels[k * 7])))

    def one(k: int) -> list[str]:
        client = Client(app.url, verbose=False, headers={"X-Forwarded-For": f"10.1.0.{k}"})  # a visitor each
        path, _ = paths[k % 3]  # clients share drawings: identical outputs at the same moment once raced
        return [
            client.predict(image=picture(path), model="mnist-cnn-modern", api_name="/classify_digit")[0]["label"]
            for _ in range(REQUESTS)
        ]

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one, range(CLIENTS)))
    assert len(results) == CLIENTS and all(len(r) == REQUESTS for r in results)
    for k, answers in enumerate(results):
        assert answers == [paths[k % 3][1]] * REQUESTS  # the same drawing gets the same, right answer
