"""The multi-view spec: defaults, checks that name the bad key, and
split_views handing an algorithm its groups."""
import pytest
import torch

from mmseed.errors import ConfigError
from mmseed.models.utils.views import (ViewGroup, parse_views, split_views,
                                       view_counts)

SMALL_PATCH = [
    dict(name='global', num_views=1, size=224, scale=(0.14, 1.),
         blur_prob=0.5),
    dict(name='patch', num_views=6, size=96, scale=(0.05, 0.14),
         blur_prob=0.5),
]


def test_defaults_are_the_moco_v2_augmentation():
    (group, ) = parse_views([dict(name='views', num_views=2, size=32)])
    assert group == ViewGroup(
        name='views', num_views=2, size=32, scale=(0.2, 1.),
        jitter=(0.4, 0.4, 0.4, 0.1), jitter_prob=0.8, gray_prob=0.2,
        blur_prob=0., solarize_prob=0., flip_prob=0.5)


def test_groups_keep_their_order_and_settings():
    groups = parse_views(SMALL_PATCH)
    assert [(g.name, g.num_views, g.size, g.scale) for g in groups] == [
        ('global', 1, 224, (0.14, 1.)), ('patch', 6, 96, (0.05, 0.14))]
    assert all(g.blur_prob == 0.5 for g in groups)
    # A parsed spec parses to itself; lists work as tuples.
    assert parse_views(groups) == groups
    assert parse_views([dict(SMALL_PATCH[0], scale=[0.14, 1.])]) == groups[:1]


@pytest.mark.parametrize('views, match', [
    ([], 'non-empty list'),
    (dict(name='a', num_views=1, size=8), 'non-empty list'),
    ([dict(name='a', num_views=1, size=8, blur=0.5)],
     r"views\[0\] has unknown key\(s\) \['blur'\]"),
    ([dict(name='a', size=8)], r"views\[0\] lacks \['num_views'\]"),
    ([dict(name='a', num_views=0, size=8)], r'views\[0\].num_views'),
    ([dict(name='a', num_views=1, size=8),
      dict(name='b', num_views=1, size=8, scale=(0.5, 0.2))],
     r'views\[1\].scale'),
    ([dict(name='a', num_views=1, size=8, jitter=(0.4, 0.4, 0.4))],
     r'views\[0\].jitter'),
    ([dict(name='a', num_views=1, size=8, jitter=(0.4, 0.4, 0.4, 0.7))],
     r'views\[0\].jitter'),
    ([dict(name='a', num_views=1, size=8, solarize_prob=1.5)],
     r'views\[0\].solarize_prob'),
    ([dict(name='', num_views=1, size=8)], r'views\[0\].name'),
])
def test_bad_specs_name_the_key(views, match):
    with pytest.raises(ConfigError, match=match):
        parse_views(views)


def test_view_counts_take_a_spec_or_pairs():
    assert view_counts(SMALL_PATCH) == [('global', 1), ('patch', 6)]
    assert view_counts([('global', 1), ('patch', 6)]) == [('global', 1),
                                                          ('patch', 6)]
    with pytest.raises(ConfigError, match=r'views\[0\] must be a \(name, '):
        view_counts([('global', 0)])


def views(count, n=2):
    return [torch.full((n, 3, 4, 4), float(i)) for i in range(count)]


def test_split_views_hands_each_group_its_views():
    inputs = views(7)
    out = split_views(inputs, SMALL_PATCH)
    assert list(out) == ['global', 'patch']
    assert out['global'][0] is inputs[0]
    assert [v is w for v, w in zip(out['patch'], inputs[1:])] == [True] * 6
    # Groups sharing a name are gathered under it (DINO's global views).
    dino = [('global', 1), ('global', 1), ('local', 8)]
    out = split_views(views(10), dino)
    assert [len(out['global']), len(out['local'])] == [2, 8]
    assert [float(v[0, 0, 0, 0]) for v in out['global']] == [0., 1.]


def test_split_views_with_the_wrong_count_is_one_clear_line():
    with pytest.raises(ConfigError) as error:
        split_views(views(5), SMALL_PATCH, key='model.views')
    message = str(error.value)
    assert '\n' not in message
    assert message.startswith('model.views states 7 views per image '
                              '(1 global + 6 patch), but the pipeline gave 5')
    with pytest.raises(ConfigError, match='not a list of views'):
        split_views(torch.zeros(2, 3, 4, 4), [('views', 1)])
