"""SimCLRv2Neck: the official 3-layer head, and the layers a fine-tune
keeps."""
import pytest
import torch
from mmpretrain.models.classifiers import ImageClassifier
from torch import nn

from mmseed.errors import CheckpointError, ConfigError
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

register_all_modules()


def neck(**kwargs):
    return MODELS.build(dict(type='SimCLRv2Neck', in_channels=16,
                             out_channels=4, **kwargs))


def test_layer_structure_matches_the_official_head():
    head = neck()
    assert len(head.layers) == 3
    for i, layer in enumerate(head.layers):
        last = i == 2
        fc, bn = layer.fc, layer.bn
        assert fc.bias is None  # Dense(use_bias=False)
        assert (fc.in_features, fc.out_features) == (16, 4 if last else 16)
        assert bn.weight is not None  # scale on every layer
        assert (bn.bias is None) == last  # centre on the hidden ones only
        assert hasattr(layer, 'relu') != last  # ReLU on the hidden ones
        assert [type(m) for m in layer] == (
            [nn.Linear, nn.BatchNorm1d] + ([] if last else [nn.ReLU]))
    assert head.out_channels == 4
    head.init_weights()
    std = head.layers[0].fc.weight.std().item()
    assert 0.008 < std < 0.012  # N(0, 0.01) kernels


def test_forward_is_the_layer_chain_on_the_pooled_feature():
    head = neck().eval()
    x = torch.randn(3, 16, 2, 2)
    out, = head((torch.randn(3, 8, 4, 4), x))
    h = x.mean((2, 3))
    for layer in head.layers:
        h = layer(h)
    torch.testing.assert_close(out, h)
    # Without its shift, the last BatchNorm only scales the normalised value.
    last = head.layers[2]
    z = last.fc(head.layers[1](head.layers[0](x.mean((2, 3)))))
    expected = (z - last.bn.running_mean) / torch.sqrt(
        last.bn.running_var + last.bn.eps) * last.bn.weight
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('use_layers, count, width', [
    (0, 0, 16), (1, 1, 16), (2, 2, 16), (3, 3, 4), (-1, 3, 4), (None, 3, 4)])
def test_use_layers_selects_the_head_input(use_layers, count, width):
    """ft_proj_selector: 0 = the pooled feature, k = after layer k."""
    full = neck().eval()
    part = neck(use_layers=use_layers).eval()
    assert len(part.layers) == count and part.out_channels == width
    part.load_state_dict(full.state_dict(), strict=False)
    x = torch.randn(2, 16, 3, 3)
    h = x.mean((2, 3))
    for layer in full.layers[:count]:
        h = layer(h)
    torch.testing.assert_close(part((x, ))[0], h)


@pytest.mark.parametrize('kwargs', [dict(use_layers=4), dict(use_layers=-2),
                                    dict(num_layers=0)])
def test_bad_layer_counts_are_config_errors(kwargs):
    with pytest.raises(ConfigError, match='SimCLRv2Neck'):
        neck(**kwargs)


def classifier(checkpoint, use_layers=1):
    return ImageClassifier(
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=4,
                      base_channels=2),
        neck=dict(type='SimCLRv2Neck', in_channels=16, use_layers=use_layers),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=16,
                  init_cfg=dict(type='Constant', val=0, layer='Linear')),
        init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)))


def pretrained(tmp_path, with_head=True):
    model = MODELS.build(dict(
        type='SimCLRv2',
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=4,
                      base_channels=2),
        neck=dict(type='SimCLRv2Neck', in_channels=16)))
    model.init_weights()
    state = {k: v for k, v in model.state_dict().items()
             if with_head or not k.startswith('neck.')}
    path = tmp_path / 'pretrain.pth'
    torch.save(dict(state_dict=state, meta={}), path)
    return model, path


def test_fine_tune_starts_from_the_checkpoint_head_layer(tmp_path):
    model, path = pretrained(tmp_path)
    ft = classifier(path)
    ft.init_weights()
    assert len(ft.neck.layers) == 1
    for key, value in ft.neck.state_dict().items():
        torch.testing.assert_close(value, model.neck.state_dict()[key])
    torch.testing.assert_close(ft.backbone.conv1.weight,
                               model.backbone.conv1.weight)
    # Zero-initialised classifier (the checkpoint has none).
    assert not ft.head.fc.weight.any() and not ft.head.fc.bias.any()


def test_checkpoint_without_the_head_is_refused(tmp_path):
    _, path = pretrained(tmp_path, with_head=False)
    with pytest.raises(CheckpointError, match=r'lacks the SimCLRv2 head.*'
                       r'model\.neck\.use_layers=0'):
        classifier(path).init_weights()
    classifier(path, use_layers=0).init_weights()  # the backbone alone: fine
