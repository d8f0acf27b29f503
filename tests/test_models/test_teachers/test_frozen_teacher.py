"""FrozenTeacher wraps any encoder and returns named outputs."""
import pytest
import torch
import torch.nn.functional as F
import torchvision

from mmseed.errors import CheckpointError, ConfigError
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

register_all_modules()

BACKBONE = dict(type='ResNet', depth=18)
HEAD = dict(type='LinearClsHead', num_classes=10, in_channels=512)


def build(tmp_path, state, **parts):
    path = tmp_path / 'teacher.pth'
    torch.save(state, path)
    teacher = MODELS.build(dict(type='FrozenTeacher', backbone=BACKBONE,
                                checkpoint=str(path), **parts))
    teacher.init_weights()
    return teacher


@pytest.fixture(scope='module')
def classifier():
    """A torchvision ResNet-18 classifier with trained-looking BN stats."""
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=10)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-.1, .1)
            module.running_var.uniform_(.5, 1.5)
    return net.eval()


def test_torchvision_classifier_gives_features_and_logits(tmp_path,
                                                          classifier):
    teacher = build(tmp_path, classifier.state_dict(), head=HEAD)
    x = torch.randn(2, 3, 64, 64)
    out = teacher(x, outputs=('feature', 'logits', 'embedding'))
    with torch.no_grad():
        trunk = torch.nn.Sequential(*list(classifier.children())[:-1])
        feature = trunk(x).flatten(1)
        logits = classifier(x)
    torch.testing.assert_close(out['feature'], feature)
    torch.testing.assert_close(out['logits'], logits)
    # Without a neck the embedding is the pooled feature.
    assert torch.equal(out['embedding'], out['feature'])
    assert torch.equal(teacher(x, 'logits'), out['logits'])
    for value in out.values():
        assert not value.is_inference() and not value.requires_grad


def test_classifier_weights_are_left_out_without_a_head(tmp_path,
                                                        classifier):
    teacher = build(tmp_path, classifier.state_dict())
    assert teacher.head is None
    assert not any(k.startswith('head.') for k in teacher.state_dict())
    with pytest.raises(ConfigError, match='no classifier head for logits'):
        teacher(torch.randn(1, 3, 32, 32), 'logits')


def test_head_without_classifier_weights_says_so(tmp_path, classifier):
    state = {k: v for k, v in classifier.state_dict().items()
             if not k.startswith('fc.')}
    with pytest.raises(CheckpointError) as err:
        build(tmp_path, state, head=HEAD)
    assert 'has no classifier head weights' in str(err.value)
    assert 'model.teacher.head=None' in str(err.value)


def test_unknown_output_is_a_clear_error(tmp_path, classifier):
    teacher = build(tmp_path, classifier.state_dict())
    with pytest.raises(ConfigError, match="no output 'logit'; choose from "
                       'feature, embedding, logits'):
        teacher(torch.randn(1, 3, 32, 32), 'logit')


def test_swav_projection_neck_is_swav_neck_with_the_neck_interface():
    torch.manual_seed(0)
    swav = MODELS.build(dict(type='SwAVNeck', in_channels=512,
                             hid_channels=64, out_channels=16,
                             norm_cfg=dict(type='BN1d'))).eval()
    ours = MODELS.build(dict(type='SwAVProjectionNeck', in_channels=512,
                             hid_channels=64, out_channels=16,
                             norm_cfg=dict(type='BN1d'))).eval()
    assert ours.state_dict().keys() == swav.state_dict().keys()
    ours.load_state_dict(swav.state_dict())
    feats = (torch.randn(3, 256, 4, 4), torch.randn(3, 512, 2, 2))
    out = ours(feats)
    assert isinstance(out, tuple) and len(out) == 1
    assert torch.equal(out[0], swav([feats[-1:]]))
    torch.testing.assert_close(out[0].norm(dim=1), torch.ones(3))
    pooled = F.adaptive_avg_pool2d(feats[-1], 1).flatten(1)
    assert torch.equal(out[0], swav.forward_projection(pooled))


def test_swav_neck_as_a_teacher_neck_is_a_config_error(tmp_path):
    from mmengine.config import Config

    from mmseed.utils.config_check import check_model_config
    neck = dict(type='SwAVNeck', in_channels=512, hid_channels=64,
                out_channels=16, norm_cfg=dict(type='BN1d'))
    cfg = Config(dict(model=dict(
        type='SEED', backbone=BACKBONE,
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=64,
                  out_channels=16),
        teacher=dict(type='FrozenTeacher', backbone=BACKBONE, neck=neck))))
    with pytest.raises(ConfigError, match="model.teacher.neck: SwAVNeck "
                       "takes a list .* use type='SwAVProjectionNeck'"):
        check_model_config(cfg)
    cfg.model.teacher.neck.type = 'SwAVProjectionNeck'
    check_model_config(cfg)


def test_a_neck_that_returns_no_tuple_is_a_clear_error():
    teacher = MODELS.build(dict(
        type='FrozenTeacher', backbone=BACKBONE,
        neck=dict(type='SwAVNeck', in_channels=512, hid_channels=0,
                  out_channels=0)))

    teacher.neck.forward = lambda feats: feats[-1].mean((2, 3))
    with pytest.raises(ConfigError, match=r'model.teacher.neck \(SwAVNeck\) '
                       'returned a Tensor'):
        teacher(torch.randn(1, 3, 32, 32))


def simclr_official(seed=0):
    """SimCLR ResNet-50 as jacobswan1/SEED builds it (simclr_resnet.py):
    torchvision resnet50 whose fc is Linear(2048, 2048)-BN1d-ReLU-
    Linear(2048, 128), with trained-looking BN statistics."""
    torch.manual_seed(seed)
    net = torchvision.models.resnet50(num_classes=128)
    net.fc = torch.nn.Sequential(torch.nn.Linear(2048, 2048),
                                 torch.nn.BatchNorm1d(2048), torch.nn.ReLU(),
                                 net.fc)
    for module in net.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-.1, .1)
            module.running_var.uniform_(.5, 1.5)
    return net.eval()


SIMCLR_NECK = dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048,
                   out_channels=128, num_layers=2, with_bias=True,
                   with_last_bias=True, with_last_bn=False,
                   with_avg_pool=True, norm_cfg=dict(type='BN1d'))


def test_simclr_teacher_keeps_its_projection_head(tmp_path):
    net = simclr_official()
    # As the official loader reads it: {'model': ...} with
    # 'module.module.module.' prefixes (tools/utils.py).
    state = {'model': {'module.module.module.' + k: v
                       for k, v in net.state_dict().items()}}
    teacher = MODELS.build(dict(type='FrozenTeacher',
                                backbone=dict(type='ResNet', depth=50),
                                neck=SIMCLR_NECK,
                                checkpoint=str(tmp_path / 'simclr.pth')))
    torch.save(state, tmp_path / 'simclr.pth')
    teacher.init_weights()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        official = F.normalize(net(x), dim=1)  # simclr_resnet.forward_one
    embedding = F.normalize(teacher(x), dim=1)
    assert embedding.shape == (2, 128)
    torch.testing.assert_close(embedding, official, rtol=1e-4, atol=1e-5)


def test_simclr_head_without_a_teacher_neck_says_what_the_file_holds(
        tmp_path):
    net = simclr_official()
    torch.save({'model': net.state_dict()}, tmp_path / 'simclr.pth')
    with pytest.raises(CheckpointError) as err:
        MODELS.build(dict(type='FrozenTeacher',
                          backbone=dict(type='ResNet', depth=50),
                          checkpoint=str(tmp_path / 'simclr.pth'))
                     ).init_weights()
    message = str(err.value)
    assert 'simclr format' in message
    assert 'has projection head (neck) weights but the teacher has no ' \
        'neck' in message and 'NonLinearNeck' in message
    assert 'no projection head' not in message
