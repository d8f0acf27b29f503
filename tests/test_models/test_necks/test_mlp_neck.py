"""MLPNeck builds the layer sequence it is given."""
import pytest
import torch
from torch import nn

from mmseed.errors import ConfigError
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

register_all_modules()


def test_layers_in_order_and_output():
    neck = MODELS.build(dict(type='MLPNeck', in_channels=6, layers=[
        dict(dropout=0.5), dict(linear=8), dict(act='HSwish'),
        dict(linear=3, bias=False)]))
    kinds = [type(m) for m in neck.mlp]
    assert kinds == [nn.Dropout, nn.Linear, nn.Hardswish, nn.Linear]
    assert neck.mlp[0].p == 0.5 and neck.mlp[3].bias is None
    assert neck.out_channels == 3
    neck.eval()
    x = torch.randn(2, 6, 3, 3)
    out, = neck((torch.randn(2, 4, 5, 5), x))  # the last feature is used
    expected = neck.mlp(x.mean((2, 3)))
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('layers, match', [
    ([dict(act='ReLU')], 'at least one Linear'),
    ([dict(linear=4, act='ReLU')], r'layers\[0\] must be'),
    ([dict(dropout=0.1, bias=False), dict(linear=2)], r'layers\[0\] must be'),
    ([dict(lienar=4)], r'layers\[0\] must be'),
])
def test_bad_layers_are_config_errors(layers, match):
    with pytest.raises(ConfigError, match=match):
        MODELS.build(dict(type='MLPNeck', in_channels=4, layers=layers))
