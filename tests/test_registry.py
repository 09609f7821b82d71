"""The registry is the list of architectures (timm's habit): every class declared with ``@architecture`` is
exported, loadable and served by the catalog the moment it is declared, with no second list to keep in step."""

import pytest

import zoo
import zoo.models
from zoo.catalog import ENTRIES, TASKS
from zoo.models import ARCHITECTURES, MNISTConvNet, PyTorchModel, architecture, resolve

# what ``from zoo.models import X`` gave before the models were split into one module per task family
PUBLIC_BEFORE_THE_SPLIT = (
    "MNIST_NORMALIZE AUTOENCODER_SCALE WEIGHTS_NAME CONFIG_NAME WeightsIntegrityError sha256_file PyTorchModel "
    "HousesModel HousePricesModel LinearRegressor TreeEnsembleRegressor DigitsModel MNISTConvNet MNISTMLP "
    "MNISTModernCNN TextModel CharSampler NextCharacterModel CharRNN KVCache CausalSelfAttention TransformerBlock "
    "CharTransformer Encoder Decoder LatentModel Autoencoder VAE DCGANGenerator MAX_SEARCH_STEPS DCGAN ARCHITECTURES "
    "RENAMED_KEYS migrate_config ConvLayer DenseLayer LSTMLayer assert_dim"
).split()


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_registered_architecture_is_exported_by_zoo(name):
    cls = ARCHITECTURES[name]
    assert getattr(zoo, name) is cls and name in zoo.__all__
    assert getattr(zoo.models, name) is cls and name in zoo.models.__all__
    assert cls.__name__ == name and resolve(name) is cls  # a config.json names the class


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_registered_architecture_serves_a_task_and_has_an_entry(name):
    cls = ARCHITECTURES[name]
    assert issubclass(cls, PyTorchModel) and cls.task in TASKS
    assert any(e.architecture == name for e in ENTRIES.values()), f"{name} is registered but no entry builds it"


@pytest.mark.parametrize("name", list(ENTRIES))
def test_every_catalog_entry_names_a_registered_architecture_of_its_task(name):
    e = ENTRIES[name]
    assert e.architecture in ARCHITECTURES and ARCHITECTURES[e.architecture].task == e.task
    assert type(e.build()) is resolve(e.architecture)


@pytest.mark.parametrize("name", PUBLIC_BEFORE_THE_SPLIT)
def test_names_importable_before_the_split_still_are(name):
    assert name in zoo.models.__all__ and hasattr(zoo.models, name)


def test_zoo_star_import_gives_every_name_it_lists():
    namespace: dict = {}
    exec("from zoo import *", namespace)
    assert set(zoo.__all__) <= namespace.keys()


def test_unknown_architecture_error_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown architecture 'ResNet'; known: .*MNISTConvNet.*CharTransformer"):
        resolve("ResNet")


def test_the_registry_is_read_only_and_refuses_duplicates_and_taskless_classes():
    before = dict(ARCHITECTURES)
    with pytest.raises(TypeError):
        ARCHITECTURES["Mine"] = MNISTConvNet  # type: ignore[index]
    with pytest.raises(ValueError, match="'MNISTConvNet' is already registered"):
        architecture(type("MNISTConvNet", (MNISTConvNet,), {}))
    with pytest.raises(TypeError, match="has no task"):
        architecture(type("NoTask", (PyTorchModel,), {}))
    with pytest.raises(TypeError, match="PyTorchModel subclasses"):
        architecture(object)
    assert architecture(MNISTConvNet) is MNISTConvNet  # registering the same class again changes nothing
    assert dict(ARCHITECTURES) == before
