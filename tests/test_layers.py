"""The chapter's building blocks."""

import pytest
import torch
from torch import nn

from zoo.models.layers import ConvLayer, DenseLayer, LSTMLayer, assert_dim


def test_chapter_autograd_example():
    a = torch.tensor([[3.0, 3.0], [3.0, 3.0]], requires_grad=True)
    e = (a * 4 + 3) * (a + 2)
    e.sum().backward()
    assert torch.equal(a.grad, torch.full((2, 2), 35.0))


def test_assert_dim_names_expected_and_actual():
    with pytest.raises(ValueError, match=r"must have 4 dimensions, got 2 \(shape \(3, 5\)\)"):
        assert_dim(torch.zeros(3, 5), 4)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 28, 28\), got \(2, 3, 28, 28\)"):
        assert_dim(torch.zeros(2, 3, 28, 28), 4, shape=(None, 1, 28, 28))
    with pytest.raises(ValueError, match="must be a torch.Tensor"):
        assert_dim([1, 2], 1)
    assert_dim(torch.zeros(7, 1, 28, 28), 4, shape=(None, 1, 28, 28))


def test_dense_dropout_is_keep_probability_and_follows_train_eval():
    torch.manual_seed(0)
    layer = DenseLayer(1000, 1000, keep_prob=0.8)
    nn.init.eye_(layer.linear.weight)
    nn.init.zeros_(layer.linear.bias)
    x = torch.ones(4, 1000)
    layer.train()
    kept = (layer(x) != 0).float().mean().item()
    assert 0.77 < kept < 0.83  # keep 80 %, as the book means it
    layer.eval()
    assert torch.equal(layer(x), x)  # no dropout in eval
    layer.train()
    assert (layer(x) == 0).any()  # and back on in train: the book's inference flag never switched back


def test_dropout_rejects_drop_probabilities_outside_range():
    with pytest.raises(ValueError, match="keep probability"):
        DenseLayer(3, 3, keep_prob=0.0)
    with pytest.raises(ValueError, match="keep probability"):
        ConvLayer(1, 1, 3, keep_prob=1.5)


def test_conv_layer_same_padding_and_flatten():
    layer = ConvLayer(1, 6, 5, activation="tanh", flatten=True)
    out = layer(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 6 * 28 * 28)
    assert out.abs().max() <= 1


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation 'gelu'; allowed"):
        DenseLayer(2, 2, activation="gelu")


def test_lstm_layer_carries_batch_mean_state_and_resets():
    torch.manual_seed(0)
    layer = LSTMLayer(5, 4, 6, 4)
    x = torch.randn(3, 5, 4)
    first = layer(x)
    assert first.shape == (3, 5, 4)
    assert layer.h_init.abs().sum() > 0  # state carried to the next batch
    second = layer(x)
    assert not torch.allclose(first, second)  # same input, different carried state
    layer.reset_state()
    assert torch.allclose(layer(x), first)
    assert "h_init" not in layer.state_dict()  # not saved with the weights


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("p", [0.2, 0.1])  # 8 random bits per element; 16 where 8 would round p by > 1 %
def test_fast_dropout_drops_p_and_keeps_the_mean(layout, p):
    from zoo.models.layers import Dropout

    torch.manual_seed(0)
    d = Dropout(p)
    x = torch.ones(64, 16, 28, 28).contiguous(memory_format=layout)
    y = d(x)
    assert abs((y == 0).float().mean().item() - p) < 0.005
    assert abs(y.mean().item() - 1.0) < 0.01  # survivors scaled to keep the mean
    assert y.is_contiguous(memory_format=layout)
    torch.manual_seed(0)
    assert torch.equal(d(x), y)  # follows torch.manual_seed
    assert torch.equal(d.eval()(x), x)
    y.sum().backward() if y.requires_grad else None


@pytest.mark.parametrize(("cin", "cout", "k"), [(16, 8, 5), (14, 7, 5), (6, 2, 4), (4, 1, 3)])
def test_conv_layer_trains_fewer_outputs_as_the_transposed_convolution_of_the_same_function(cin, cout, k, monkeypatch):
    """Where the calibration picks it, a conv with fewer output than input channels trains as the transposed
    convolution of its flipped kernel (oneDNN's weight gradient is faster that way on some CPUs): outputs and
    gradients must be the conv's."""
    from unittest import mock

    from zoo.models import fastpaths, layers

    torch.manual_seed(0)
    layer = ConvLayer(cin, cout, k)
    x = torch.randn(3, cin, 12, 12, requires_grad=True)
    grads = {}
    for transposed in (False, True):
        layer.zero_grad()
        x.grad = None
        monkeypatch.setenv(fastpaths.ENV, "nchw-transposed" if transposed else "nchw-direct")
        with mock.patch.object(layers.F, "conv_transpose2d", wraps=layers.F.conv_transpose2d) as spy:
            out = layer(x)
            (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        assert spy.called == transposed
        grads[transposed] = (out.detach(), x.grad.clone(), layer.conv.weight.grad.clone(), layer.conv.bias.grad.clone())
    for direct, via_transposed in zip(grads[False], grads[True], strict=True):
        assert torch.allclose(direct, via_transposed, rtol=1e-5, atol=1e-5)
    monkeypatch.setenv(fastpaths.ENV, "nchw-transposed")
    with torch.no_grad():
        assert torch.equal(layer(x), layer.conv(x))  # inference: always the plain convolution


def test_every_path_the_calibration_can_pick_trains_the_same_function(monkeypatch):
    """The calibration only chooses speed: the book ConvNet in training mode (dropout on, same seed) gives the same
    outputs and weight gradients on each of ``fastpaths.PATHS``, laid out as the trainer lays it out."""
    from zoo.models import MNISTConvNet, fastpaths

    torch.manual_seed(0)
    model = MNISTConvNet(16, 8, 32, 0.8).train()
    x = torch.randn(6, 1, 28, 28)
    results = {}
    for name, path in fastpaths.PATHS.items():
        monkeypatch.setenv(fastpaths.ENV, name)
        layout = torch.channels_last if path.channels_last else torch.contiguous_format
        model.to(memory_format=layout)
        model.zero_grad()
        torch.manual_seed(1)  # the same dropout masks on every path
        out = model(x.contiguous(memory_format=layout))[0]
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        results[name] = [out.detach()] + [p.grad.clone() for p in model.parameters()]
    first = results.pop("nchw-direct")
    for name, tensors in results.items():
        for a, b in zip(first, tensors, strict=True):
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-5), name
