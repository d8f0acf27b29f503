"""mmseed's registries resolve mmseed, mmpretrain and mmselfsup modules."""
import mmpretrain.models
import pytest
from mmengine.registry import DefaultScope

from mmseed.registry import HOOKS, MODELS, TRANSFORMS
from mmseed.utils import register_all_modules


def test_registries_have_mmseed_scope_and_mmpretrain_parent():
    assert MODELS.scope == 'mmseed'
    assert MODELS.parent.scope == 'mmpretrain'
    assert HOOKS.scope == 'mmseed' and HOOKS.parent.scope == 'mmpretrain'


def test_mmpretrain_modules_resolve_by_fallback():
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmseed'
    assert MODELS.get('ResNet') is mmpretrain.models.ResNet
    assert MODELS.get('MoCo') is mmpretrain.models.MoCo
    assert MODELS.get('MobileNetV3') is mmpretrain.models.MobileNetV3
    assert TRANSFORMS.get('MultiView') is not None
    backbone = MODELS.build(dict(type='ResNet', depth=18))
    assert isinstance(backbone, mmpretrain.models.ResNet)


def test_mmseed_modules_resolve():
    from mmseed.engine.hooks import EpochSeedHook
    assert HOOKS.get('EpochSeedHook') is EpochSeedHook


def test_mmselfsup_modules_resolve_by_scoped_name():
    from mmselfsup.models import MoCoV2Neck
    neck = MODELS.build(
        dict(type='mmselfsup.MoCoV2Neck', in_channels=8, hid_channels=8,
             out_channels=4))
    assert type(neck) is MoCoV2Neck
    assert type(neck) is not mmpretrain.models.MoCoV2Neck


def test_unknown_type_is_a_key_error():
    with pytest.raises(KeyError, match='NoSuchNet'):
        MODELS.build(dict(type='NoSuchNet'))
