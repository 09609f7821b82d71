"""What every zoo model shares: ``save_pretrained`` / ``from_pretrained`` through the Hugging Face mixin,
loading pickle-free, strictly and checked against the sha256 that ``config.json`` records.

The preprocessing a model needs is an ``__init__`` argument, so it lands in ``config.json``, the one place
training, evaluation and the app read it from; the book's constants for it live in ``zoo.basics``.
Configs written before an argument was renamed still load: ``migrate_config`` renames their keys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ..basics import WEIGHTS_NAME, sha256_file


class WeightsIntegrityError(ValueError):
    """``model.safetensors`` does not match the sha256 recorded in ``config.json``."""


class PyTorchModel(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="dlfs-zoo",
    license="mit",
    repo_url="https://github.com/dlfs-zoo/dlfs-zoo",
    tags=["dlfs-zoo", "deep-learning-from-scratch"],
):
    """Base of every zoo model: hub save/load with strict, hash-checked, pickle-free loading."""

    task: str = ""

    @property
    def config(self) -> dict[str, Any]:
        """The model's ``config.json``: architecture, ``__init__`` arguments and preprocessing."""
        cfg = dict(self._hub_mixin_config or {})
        cfg.setdefault("architecture", type(self).__name__)
        return cfg

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self._hub_mixin_config = dict(value)

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str = "cpu",
        strict: bool = True,
        config: dict | None = None,
        **model_kwargs: Any,
    ) -> PyTorchModel:
        """Strict safetensors loading; the weights' sha256 is checked when the config records one."""
        from huggingface_hub import hf_hub_download
        from safetensors.torch import load_model

        if not strict:
            raise ValueError("dlfs-zoo loads weights strictly; strict=False is not supported")
        if config is not None:  # an older config: its renamed keys reach __init__ under their new names
            migrated = migrate_config(config)
            for key in migrated.keys() - config.keys():
                model_kwargs.setdefault(key, migrated[key])
            config = migrated
        model = cls(**model_kwargs)
        if os.path.isdir(model_id):
            model_file = os.path.join(model_id, WEIGHTS_NAME)
            if not os.path.isfile(model_file):
                raise FileNotFoundError(f"{model_id} has no {WEIGHTS_NAME}")
        else:
            model_file = hf_hub_download(
                repo_id=model_id,
                filename=WEIGHTS_NAME,
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                token=token,
                local_files_only=local_files_only,
            )
        expected = (config or {}).get("weights_sha256")
        if expected:
            actual = sha256_file(model_file)
            if actual != expected:
                raise WeightsIntegrityError(
                    f"{model_file} is corrupt or was tampered with: its sha256 is {actual}, "
                    f"config.json records {expected}"
                )
        try:
            load_model(model, model_file, strict=True, device=map_location)
        except RuntimeError as e:  # missing / unexpected / wrongly shaped tensors
            raise ValueError(f"weights in {model_file} do not fit {cls.__name__}: {e}") from e
        except Exception as e:  # truncated or otherwise unreadable files
            raise WeightsIntegrityError(f"{model_file} is not a readable safetensors file: {e}") from e
        if config is not None:
            model.config = config
        model.eval()
        return model

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


# config keys renamed since checkpoints were first published (``dropout`` meant a keep probability in some
# models and a drop probability in others): old configs load through this explicit map
RENAMED_KEYS: dict[str, dict[str, str]] = {
    "HousePricesModel": {"hidden_dropout": "keep_prob"},
    "MNISTConvNet": {"dropout": "keep_prob"},
    "MNISTMLP": {"dropout": "keep_prob"},
    "MNISTModernCNN": {"dropout": "drop_prob"},
    "CharRNN": {"dropout": "drop_prob"},
}


def migrate_config(config: Any) -> Any:
    """``config`` with the keys ``RENAMED_KEYS`` lists for its architecture under their new names."""
    if not isinstance(config, dict):
        return config
    renames = RENAMED_KEYS.get(config.get("architecture"), {})
    if any(new in config for old, new in renames.items() if old in config):
        return config  # both names present: leave it for validation to refuse the unknown key
    return {renames.get(k, k): v for k, v in config.items()}
