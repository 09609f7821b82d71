"""The DCGAN and the character transformer: shapes, strict loading, the KV cache, GAN inversion and the
latent task's sample metrics on tiny models."""

import numpy as np
import pytest
import torch

from training.tasks.latent import eval_latent, frechet_distance
from zoo.checkpoint_io import load_folder, save_checkpoint
from zoo.models import AUTOENCODER_SCALE, DCGAN, MNIST_NORMALIZE, VAE, CharSampler, CharTransformer, MNISTModernCNN

VOCAB = "\n abcdefghijklmnopqrstuvwxyz"


def tiny_transformer(block_size: int = 16, tie: bool = True) -> CharTransformer:
    torch.manual_seed(0)
    return CharTransformer(len(VOCAB), 2, 2, 16, block_size, tie_weights=tie, vocab=VOCAB).eval()


def test_transformer_shapes_and_causality():
    m = tiny_transformer()
    x = torch.randint(0, len(VOCAB), (3, 16))
    logits, state = m(x)
    assert logits.shape == (3, len(VOCAB), 16) and state is None  # (N, V, T) like the recurrent models
    changed = x.clone()
    changed[:, 10] = (changed[:, 10] + 1) % len(VOCAB)
    # a change at position 10 leaves every earlier prediction exactly as it was
    assert torch.equal(m(changed)[0][:, :, :10], logits[:, :, :10])
    assert not torch.allclose(m(changed)[0][:, :, 10:], logits[:, :, 10:])


def uncached_generate(m: CharTransformer, prompt: str, length: int, temperature: float, seed: int) -> str:
    """Generation as the model would do it without a cache: the whole window recomputed for every character
    (the window follows the same rule: when full, its last half is kept), the same sampler."""
    pick = CharSampler(m.vocab_size, temperature, None, seed)
    window = m.encode(prompt)[0].tolist()
    out = []
    with torch.inference_mode():
        for _ in range(length):
            nxt = pick(m._logits(torch.tensor([window]))[0, -1])
            out.append(m.vocab[nxt])
            if len(window) == m.block_size:
                window = window[-(m.block_size // 2) :]
            window.append(nxt)
    return "".join(out)


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_kv_cache_generation_equals_generation_without_it(temperature):
    m = tiny_transformer(block_size=16)
    cached = "".join(m.generate("to be or", length=60, temperature=temperature, seed=3))
    assert len(cached) == 60  # past the 16-position window more than once
    assert cached == uncached_generate(m, "to be or", 60, temperature, seed=3)


def test_sampler_draws_from_the_softmax_and_keeps_to_the_top_k():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0, -30.0])
    n = 20_000  # many noise chunks
    for temperature in (1.0, 0.5):
        pick = CharSampler(5, temperature, seed=0)
        counts = np.bincount([pick(logits) for _ in range(n)], minlength=5)
        expected = torch.softmax(logits / temperature, 0).numpy() * n
        assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected) + 1), (counts, expected)
    top2 = CharSampler(5, 2.0, top_k=2, seed=1)
    counts = np.bincount([top2(logits) for _ in range(4000)], minlength=5)
    assert counts[2:].sum() == 0 and abs(counts[0] - 2489) < 4 * 31  # softmax([1, 0.5]) = 0.622, 0.378
    assert CharSampler(5, 0.0)(logits) == 0
    a, b = CharSampler(5, 1.0, seed=3), CharSampler(5, 1.0, seed=3)
    assert [a(logits) for _ in range(300)] == [b(logits) for _ in range(300)]
    for bad in ({"temperature": -1.0}, {"temperature": float("nan")}, {"top_k": 0}):
        with pytest.raises(ValueError, match="temperature|top_k"):
            CharSampler(5, **({"temperature": 1.0} | bad))


def test_chunked_run_equals_one_position_at_a_time():
    m = tiny_transformer(block_size=16)
    x = torch.randint(0, len(VOCAB), (2, 50))
    with torch.inference_mode():
        whole, _ = m.run(x)
        state, steps = None, []
        for i in range(50):
            logits, state = m.run(x[:, i : i + 1], state)
            steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, 1), whole, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("tie", [True, False])
def test_transformer_roundtrip_is_strict_and_exact(tmp_path, tie):
    m = tiny_transformer(tie=tie)
    m.config = {**m.config, "name": "tiny-transformer", "task": "text"}
    save_checkpoint(m, tmp_path, "tiny-transformer", "# tiny\n")
    back = load_folder(tmp_path / "tiny-transformer")
    x = torch.randint(0, len(VOCAB), (1, 16))
    assert torch.equal(back(x)[0], m(x)[0])
    assert ("head.weight" in back.state_dict()) is not tie


def tiny_gan() -> DCGAN:
    torch.manual_seed(0)
    return DCGAN(hidden_dim=8, width=8, search_steps=150, input_scale=AUTOENCODER_SCALE).eval()


def test_dcgan_shapes_and_prior():
    g = tiny_gan()
    z = g.sample_codes(5, torch.Generator().manual_seed(0))
    assert z.shape == (5, 8)
    out = g.decode(z)
    assert out.shape == (5, 1, 28, 28) and out.abs().max() <= 1
    with pytest.raises(ValueError, match="latent codes"):
        g.decode(torch.zeros(2, 7))


def test_gan_inversion_finds_a_code_that_decodes_close_to_the_image():
    g = tiny_gan()
    with torch.no_grad():
        target = g.decode(torch.randn(2, 8, generator=torch.Generator().manual_seed(1)))
        start = ((g.decode(torch.zeros(2, 8)) - target) ** 2).mean().item()  # the prior's mode
        others = g.decode(torch.randn(32, 8, generator=torch.Generator().manual_seed(2)))
        typical = ((others[:, None] - target[None]) ** 2).mean().item()  # a random code's error
    with torch.inference_mode():  # the app calls it under inference mode
        code = g.encode(target)
        recon, code_again = g(target)
        found = ((g.decode(code) - target) ** 2).mean().item()
    assert found < start / 3 and found < typical / 5, (found, start, typical)
    assert torch.equal(code, code_again)  # deterministic: the same image gives the same code
    assert all(p.requires_grad for p in g.parameters())  # the search leaves the weights as it found them


def tiny_conditional_gan() -> DCGAN:
    torch.manual_seed(0)
    return DCGAN(hidden_dim=8, width=8, search_steps=150, classes=10, input_scale=AUTOENCODER_SCALE).eval()


def test_conditional_gan_reads_the_class_from_the_first_coordinate():
    """Codes from the prior ask for every class equally often; only the first coordinate's bin sets the class,
    so codes in one bin decode alike in that respect and a code moved to another bin decodes differently."""
    g = tiny_conditional_gan()
    codes = g.sample_codes(20_000, torch.Generator().manual_seed(0))
    counts = torch.bincount(g.decoder.class_of(codes), minlength=10)
    assert len(counts) == 10 and counts.min() > 1800 and counts.max() < 2200, counts
    middles = g.decoder.class_codes()
    assert g.decoder.class_of(torch.nn.functional.pad(middles[:, None], (0, 7))).tolist() == list(range(10))
    z = torch.zeros(2, 8)
    z[:, 0] = middles[3] + torch.tensor([-0.05, 0.05])  # the same bin
    with torch.no_grad():
        same = g.decode(z)
        z[1, 0] = middles[4]  # the next bin
        other = g.decode(z)
    assert torch.allclose(same[0], same[1]) and not torch.allclose(other[0], other[1])


def test_conditional_gan_inversion_searches_each_class_and_keeps_its_bin():
    g = tiny_conditional_gan()
    gen = torch.Generator().manual_seed(1)
    truth = torch.randn(3, 8, generator=gen)
    truth[:, 0] = g.decoder.class_codes()[torch.tensor([2, 5, 9])] + 0.1
    with torch.no_grad():
        target = g.decode(truth)
        start = ((g.decode(torch.zeros(3, 8)) - target) ** 2).mean().item()
    with torch.inference_mode():
        code = g.encode(target)
        found = ((g.decode(code) - target) ** 2).mean().item()
    assert g.decoder.class_of(code).tolist() == [2, 5, 9]
    assert torch.equal(code[:, 0], g.decoder.class_codes()[torch.tensor([2, 5, 9])])  # held, not searched
    assert found < start / 3, (found, start)


def test_conditional_gan_roundtrip_is_strict_and_exact(tmp_path):
    g = tiny_conditional_gan()
    g.config = {**g.config, "name": "tiny-cgan", "task": "latent"}
    save_checkpoint(g, tmp_path, "tiny-cgan", "# tiny\n")
    back = load_folder(tmp_path / "tiny-cgan").eval()
    assert back.classes == 10 and "decoder.edges" not in back.state_dict()  # the bin edges are computed
    z = g.sample_codes(4, torch.Generator().manual_seed(0))
    assert torch.equal(back.decode(z), g.decode(z))


def test_projection_discriminator_asks_about_the_class():
    from training.tasks.latent import Discriminator

    torch.manual_seed(0)
    x = torch.randn(4, 1, 28, 28)
    conditional = Discriminator(width=8, spectral_norm=True, classes=10).eval()
    a, b = conditional(x, torch.tensor([0, 1, 2, 3])), conditional(x, torch.tensor([4, 5, 6, 7]))
    assert a.shape == (4,) and not torch.allclose(a, b)
    plain = Discriminator(width=8, spectral_norm=True).eval()
    assert torch.equal(plain(x), plain(x, torch.tensor([4, 5, 6, 7])))


def test_frechet_distance_formula():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-9)
    # N(0, I) vs N(m, 4 I): |m|^2 + 3 * (1 + 4 - 2 * 2) = |m|^2 + 3
    b = rng.normal(size=(200_000, 3)) * 2 + np.array([1.0, 0.0, 2.0])
    c = rng.normal(size=(200_000, 3))
    assert frechet_distance(c, b) == pytest.approx(5 + 3, rel=0.02)


class OneClassDecoder(VAE):
    """A collapsed generator: every code decodes to the same image."""

    def decode(self, z):
        img = torch.zeros(len(z), 1, 28, 28)
        img[:, :, 6:22, 13:15] = 1.0  # a '1'
        return img * 2 - 1


def test_sample_metrics_see_a_collapsed_generator():
    torch.manual_seed(0)
    judge = MNISTModernCNN(8, normalize=MNIST_NORMALIZE).eval()
    judge.config = {**judge.config, "name": "tiny-judge", "weights_sha256": "tiny"}
    collapsed = OneClassDecoder(28, input_scale=AUTOENCODER_SCALE).eval()
    varied = VAE(28, input_scale=AUTOENCODER_SCALE).eval()
    c = eval_latent(collapsed, judge, n_samples=2000).metrics
    v = eval_latent(varied, judge, n_samples=2000).metrics
    assert c["sample_diversity"] == pytest.approx(0.0)  # one class: zero entropy
    assert 0 <= v["sample_diversity"] <= 1
    assert {"frechet", "sample_score", "sample_confident", "mse"} <= set(c)
    assert c["frechet"] > 0


def test_gan_gets_no_mse():
    torch.manual_seed(0)
    judge = MNISTModernCNN(8, normalize=MNIST_NORMALIZE).eval()
    judge.config = {**judge.config, "name": "tiny-judge", "weights_sha256": "tiny2"}
    ev = eval_latent(tiny_gan(), judge, n_samples=1000)
    assert "mse" not in ev.metrics and "frechet" in ev.intervals()


@pytest.mark.parametrize("kind", ["bce", "hinge"])
def test_gan_losses_reward_the_right_player(kind):
    """Each player's loss falls when the discriminator's logits move its way."""
    from training.tasks.latent import gan_losses

    loss_d, loss_g = gan_losses(kind)
    sure, unsure = torch.full((8,), 3.0), torch.zeros(8)
    assert loss_d(sure, -sure) < loss_d(unsure, unsure) < loss_d(-sure, sure)
    assert loss_g(sure) < loss_g(unsure) < loss_g(-sure)
    with pytest.raises(ValueError, match="unknown GAN loss 'wgan'"):
        gan_losses("wgan")


def test_spectral_norm_discriminator_has_unit_spectral_norms():
    from training.tasks.latent import Discriminator

    torch.manual_seed(0)
    d = Discriminator(width=8, spectral_norm=True).train()
    for _ in range(20):  # power iterations run in training-mode forward passes
        d(torch.randn(4, 1, 28, 28))
    d.eval()
    linear = d.head
    assert torch.linalg.matrix_norm(linear.weight, ord=2).item() == pytest.approx(1.0, abs=0.05)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in Discriminator(width=8).modules())


def test_gan_epoch_snapshots_do_not_change_what_training_returns():
    """``Options.on_epoch`` (bench/gan_sweep.py scores each epoch's model) sees a finished model after every epoch and
    leaves the training itself alone: the same weights come back with or without it."""
    from training.tasks import TRAINERS, Options
    from zoo.catalog import ENTRIES

    def train(on_epoch=None):
        torch.manual_seed(0)
        options = Options(epochs=1, batch_size=64, lr=2e-4, progress=False, train_limit=128, on_epoch=on_epoch)
        model, history = TRAINERS["dcgan"](ENTRIES["dcgan-28"], options)
        return model, history

    seen = []
    with_snapshots, history = train(lambda epoch, model: seen.append((epoch, model.training, type(model).__name__)))
    without, _ = train()
    assert seen == [(1, False, "DCGAN")] and len(history) == 1
    for (name, a), b in zip(with_snapshots.state_dict().items(), without.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_a_gans_curve_records_every_steps_discriminator_loss_and_leaves_the_weights_alone():
    """A GAN's run keeps its curve like every other (training_log.json): one point per step, each epoch's record
    with both losses; recording it changes no weight."""
    from training.curves import Curve
    from training.tasks import TRAINERS, Options
    from zoo.catalog import ENTRIES

    def train(curve=None):
        torch.manual_seed(0)
        options = Options(epochs=2, batch_size=64, lr=2e-4, progress=False, train_limit=128, curve=curve)
        return TRAINERS["dcgan"](ENTRIES["dcgan-28"], options)[0]

    curve = Curve()
    recorded, plain = train(curve), train()
    assert len(curve.losses) == 4 and curve.places == [0.5, 1.0, 1.5, 2.0]
    assert [set(r) >= {"loss_d", "loss_g"} for r in curve.epochs] == [True, True]
    assert curve.epochs[1]["loss_d"] == pytest.approx(sum(curve.losses[2:]) / 2)
    assert "discriminator" in curve.log()["source"]
    for (name, a), b in zip(recorded.state_dict().items(), plain.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_gan_recipe_names_its_autocast_or_is_refused():
    """``autocast`` is bf16 or nothing; a typo is refused before any training instead of silently running float32."""
    import dataclasses

    from training.tasks import TRAINERS, Options
    from zoo.catalog import ENTRIES

    entry = ENTRIES["dcgan-28"]
    wrong = dataclasses.replace(entry, recipe=dataclasses.replace(entry.recipe, extra={"autocast": "float16"}))
    options = Options(epochs=1, batch_size=64, lr=2e-4, progress=False, train_limit=128)
    with pytest.raises(ValueError, match="autocast must be 'bfloat16' or left out, got 'float16'"):
        TRAINERS["dcgan"](wrong, options)
