"""dlfs-zoo: the models of *Deep Learning from Scratch*, chapter 7, as a ranked model hub.

    import zoo
    model = zoo.load("mnist-convnet-book")      # the copy shipped in this package, a folder, or the HF Hub
    zoo.leaderboard("digits")                   # ranked rows from the cards' model-index

Imports only torch, safetensors, huggingface_hub and numpy.

Loading is built in layers, each importing only those below it (``tests/test_import_cycles.py`` holds them):

    catalog, models         what the zoo holds; the architectures
    config, checkpoint_io   config.json's schema; a checkpoint folder read and written (temp folder, then rename)
    hub, submissions        the HF Hub (download, push); the gates, the results store, the evaluation queue
    sources                 which checkpoint a name means: ``load``
    leaderboard             typed rows (``Row``) ranked per task, the zoo's beside the finished submissions
    __main__                ``python -m zoo`` (the app in demos/ and hubconf.py sit on top as well)
"""

from .catalog import ENTRIES, TASKS, Entry, Recipe, UnknownModelError, validate_name
from .checkpoint_io import load_folder, save_checkpoint
from .config import ConfigError
from .leaderboard import leaderboard
from .models import (
    ARCHITECTURES,
    DigitsModel,
    HousesModel,
    LatentModel,
    PyTorchModel,
    TextModel,
    WeightsIntegrityError,
)
from .sources import list_models, load

# every registered architecture (zoo.MNISTConvNet, zoo.CharTransformer, ...): the registry is the list
globals().update(ARCHITECTURES)

__version__ = "0.1.0"
__all__ = [
    "ENTRIES",
    "TASKS",
    "Entry",
    "Recipe",
    "UnknownModelError",
    "validate_name",
    "ConfigError",
    "list_models",
    "load",
    "load_folder",
    "save_checkpoint",
    "leaderboard",
    "DigitsModel",
    "HousesModel",
    "LatentModel",
    "PyTorchModel",
    "TextModel",
    "WeightsIntegrityError",
    *ARCHITECTURES,
]
