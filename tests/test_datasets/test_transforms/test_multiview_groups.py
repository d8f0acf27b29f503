"""MultiViewGroups: the CPU pipeline of a multi-view spec draws, for the
MoCo-v2 recipes, bit for bit what the hand-written pipelines draw."""
import random

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import default_collate

from conftest import REPO
from mmseed.errors import ConfigError
from mmseed.models.utils.views import split_views
from mmseed.registry import TRANSFORMS
from mmseed.utils import register_all_modules

SMALL_PATCH = ('configs/seed/seed_r50w2-swav_to_effb0_small-patch-800e.py',
               'configs/seed/seed_r50w2-swav_to_mbv3_small-patch-800e.py')

# The hand-written view pipelines before the spec (commit 2a568ab):
# configs/_base_/datasets/cifar10_mocov2.py's view_pipeline and
# seed_r50w2-swav_to_effb0_small-patch-800e.py's, which reused
# imagenet_mocov2.py's colour, blur and flip steps.
GRAY = dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
            channel_weights=(0.114, 0.587, 0.2989))
JITTER = dict(type='RandomApply',
              transforms=[dict(type='ColorJitter', brightness=0.4,
                               contrast=0.4, saturation=0.4, hue=0.1)],
              prob=0.8)
FLIP = dict(type='RandomFlip', prob=0.5)
CIFAR_VIEW = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.),
         backend='pillow'), JITTER, GRAY, FLIP
]
COLOR_BLUR_FLIP = [
    JITTER, GRAY,
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
         prob=0.5), FLIP
]
SMALL_PATCH_VIEWS = [[
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.14, 1.),
         backend='pillow'), *COLOR_BLUR_FLIP
], [
    dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.05, 0.14),
         backend='pillow'), *COLOR_BLUR_FLIP
]]


@pytest.fixture(autouse=True, scope='module')
def registries():
    register_all_modules(init_default_scope=True)


def image(height=40, width=48, seed=0):
    """A small random BGR image with a flat block and a bright corner."""
    img = np.random.RandomState(seed).randint(0, 256, (height, width, 3))
    img[:10, :10] = (20, 200, 90)
    img[-8:, -8:] = 250
    return img.astype(np.uint8)


def draw(pipeline, seed, calls=4):
    """The views of ``calls`` runs of ``pipeline`` on two images."""
    np.random.seed(seed)
    random.seed(seed)
    return [
        pipeline(dict(img=img.copy()))['img'] for _ in range(calls)
        for img in (image(), image(32, 32, seed=1))
    ]


def assert_same_views(old, new):
    assert len(old) == len(new)
    for old_views, new_views in zip(old, new):
        assert len(old_views) == len(new_views)
        for a, b in zip(old_views, new_views):
            assert a.dtype == b.dtype == np.uint8
            np.testing.assert_array_equal(a, b)


def test_moco_v2_cifar_spec_draws_the_hand_written_views():
    cfg = Config.fromfile(REPO / 'configs/_base_/datasets/cifar10_mocov2.py')
    assert cfg.view_pipeline == CIFAR_VIEW  # the reference is today's
    old = Compose([dict(type='MultiView', num_views=2,
                        transforms=[cfg.view_pipeline])])
    new = TRANSFORMS.build(
        dict(type='MultiViewGroups',
             views=[dict(name='views', num_views=2, size=32)]))
    for seed in (0, 1):
        assert_same_views(draw(old, seed), draw(new, seed))


def test_small_patch_configs_draw_the_hand_written_views():
    old = Compose([dict(type='MultiView', num_views=[1, 6],
                        transforms=SMALL_PATCH_VIEWS)])
    cfgs = [Config.fromfile(REPO / path) for path in SMALL_PATCH]
    assert cfgs[0].train_dataloader.dataset.pipeline == \
        cfgs[1].train_dataloader.dataset.pipeline
    pipeline = cfgs[0].train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipeline] == [
        'SafeLoadImageFromFile', 'MultiViewGroups', 'PackInputs']
    new = TRANSFORMS.build(pipeline[1])
    assert cfgs[0].model.num_patches == new.num_views[1] == 6
    old_views, new_views = draw(old, 2, calls=2), draw(new, 2, calls=2)
    assert [v.shape for v in new_views[0]] == [(224, 224, 3)] + [
        (96, 96, 3)] * 6
    assert_same_views(old_views, new_views)


def test_dino_spec_makes_its_groups_in_order():
    dino = dict(jitter=(0.4, 0.4, 0.2, 0.1))
    views = [
        dict(name='global', num_views=1, size=24, scale=(0.4, 1.),
             blur_prob=1.0, **dino),
        dict(name='global', num_views=1, size=24, scale=(0.4, 1.),
             blur_prob=0.1, solarize_prob=0.2, **dino),
        dict(name='local', num_views=8, size=12, scale=(0.05, 0.4),
             blur_prob=0.5, **dino),
    ]
    transform = TRANSFORMS.build(dict(type='MultiViewGroups', views=views))
    steps = [[type(t).__name__ for t in p.transforms]
             for p in transform.pipelines]
    assert steps[1] == ['RandomResizedCrop', 'RandomApply', 'RandomGrayscale',
                        'GaussianBlur', 'Solarize', 'RandomFlip']
    assert 'Solarize' not in steps[0] + steps[2]
    blur = transform.pipelines[0].transforms[3]
    assert (blur.prob, tuple(blur.magnitude_range)) == (1.0, (0.1, 2.0))
    out = transform(dict(img=image()))['img']
    assert [v.shape[0] for v in out] == [24, 24] + [12] * 8
    assert repr(transform) == ('MultiViewGroups(global: 1 x 24 px, global: '
                               '1 x 24 px, local: 8 x 12 px)')


def test_disabled_operations_are_left_out():
    transform = TRANSFORMS.build(dict(
        type='MultiViewGroups',
        views=[dict(name='crop', num_views=1, size=8, jitter_prob=0.,
                    gray_prob=0., flip_prob=0.)]))
    assert [type(t).__name__ for t in transform.pipelines[0].transforms] == [
        'RandomResizedCrop']


def test_a_bad_spec_names_the_key():
    with pytest.raises(ConfigError, match=r'MultiViewGroups.views\[0\]'):
        TRANSFORMS.build(dict(type='MultiViewGroups',
                              views=[dict(name='a', num_views=1)]))


def test_packed_and_collated_views_split_by_group():
    """PackInputs + default_collate give the list of views, in spec order,
    that split_views hands out."""
    views = [dict(name='global', num_views=1, size=16),
             dict(name='patch', num_views=3, size=8)]
    pipeline = Compose([dict(type='MultiViewGroups', views=views),
                        dict(type='PackInputs')])
    batch = default_collate(
        [pipeline(dict(img=image(seed=i))) for i in range(2)])
    groups = split_views(batch['inputs'], views)
    assert [v.shape for v in groups['global']] == [(2, 3, 16, 16)]
    assert [v.shape for v in groups['patch']] == [(2, 3, 8, 8)] * 3
