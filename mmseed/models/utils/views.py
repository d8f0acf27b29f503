"""The multi-view spec: groups of views, each with its own count, output size,
crop scale and augmentation.

A spec is a list of plain dicts, one per *view group*, in the order in which
the views reach the algorithm::

    # SEED's small patches (Fang et al., 2021; jacobswan1/SEED): one 224-px
    # view and six 96-px crops, all with the MoCo-v2 colour augmentation.
    views = [
        dict(name='global', num_views=1, size=224, scale=(0.14, 1.),
             blur_prob=0.5),
        dict(name='patch', num_views=6, size=96, scale=(0.05, 0.14),
             blur_prob=0.5),
    ]

The same spec drives the CPU pipeline
(``dict(type='MultiViewGroups', views=views)`` in the dataset pipeline) and
the device-side one (``dict(type='MultiViewAugmentPreprocessor',
views=views, ...)`` as the data preprocessor), and :func:`split_views` hands
an algorithm its views by group name.

Each group's keys (only ``name``, ``num_views`` and ``size`` are required; the
defaults are the MoCo-v2 augmentation without blur, as the CIFAR configs use
it: Chen et al., 2020, arXiv:2003.04297, ``main_moco.py --aug-plus`` of
facebookresearch/moco):

- ``name`` (str): the group's name; groups that share a name are gathered
  under it by :func:`split_views` (e.g. DINO's two global views, which differ
  in blur and solarize).
- ``num_views`` (int): views per image in the group.
- ``size`` (int): output side of the square views, in pixels.
- ``scale`` (tuple): area fraction range of the random resized crop.
  Default (0.2, 1.0).
- ``jitter`` (tuple): colour jitter (brightness, contrast, saturation, hue),
  as mmpretrain's ``ColorJitter``. Default (0.4, 0.4, 0.4, 0.1).
- ``jitter_prob`` (float): probability of the colour jitter. Default 0.8.
- ``gray_prob`` (float): probability of greyscale. Default 0.2.
- ``blur_prob`` (float): probability of the Gaussian blur, sigma uniform in
  :data:`BLUR_SIGMA`. Default 0 (MoCo-v2 ImageNet, SimCLR: 0.5).
- ``solarize_prob`` (float): probability of solarizing at
  :data:`SOLARIZE_THRESHOLD`. Default 0 (DINO's second global view: 0.2).
- ``flip_prob`` (float): probability of the horizontal flip. Default 0.5.

Every view is: random resized crop (aspect ratio :data:`CROP_RATIO`, Pillow
bilinear) -> colour jitter in random order -> greyscale -> blur -> solarize ->
horizontal flip, an operation being left out where its probability is 0.

A DINO / EsViT multi-crop (Caron et al., 2021, ``DataAugmentationDINO`` of
facebookresearch/dino: 2 x 224 px with scale 0.4-1, blur 1.0 on the first and
0.1 plus solarize 0.2 on the second, 8 x 96 px with scale 0.05-0.4 and blur
0.5, colour jitter 0.4/0.4/0.2/0.1)::

    dino = dict(jitter=(0.4, 0.4, 0.2, 0.1))
    views = [
        dict(name='global', num_views=1, size=224, scale=(0.4, 1.),
             blur_prob=1.0, **dino),
        dict(name='global', num_views=1, size=224, scale=(0.4, 1.),
             blur_prob=0.1, solarize_prob=0.2, **dino),
        dict(name='local', num_views=8, size=96, scale=(0.05, 0.4),
             blur_prob=0.5, **dino),
    ]
"""
from dataclasses import dataclass, fields
from numbers import Integral, Number
from typing import Dict, List, Mapping, Sequence, Tuple, Union

from torch import Tensor

from mmseed.errors import ConfigError

__all__ = [
    'CROP_RATIO', 'BLUR_SIGMA', 'SOLARIZE_THRESHOLD', 'GRAY_WEIGHTS_RGB',
    'ViewGroup', 'parse_views', 'view_counts', 'split_views'
]

# Aspect ratio range of the random resized crop: torchvision's and
# mmpretrain's RandomResizedCrop default (Szegedy et al., 2015), which MoCo,
# SimCLR, SEED and DINO all keep.
CROP_RATIO = (3. / 4., 4. / 3.)
# Gaussian blur sigma range: SimCLR (Chen et al., 2020, appendix A), MoCo v2
# (``GaussianBlur([.1, 2.])`` in facebookresearch/moco main_moco.py) and DINO
# (``radius_min=0.1, radius_max=2.`` in facebookresearch/dino utils.py).
BLUR_SIGMA = (0.1, 2.0)
# Solarize threshold: BYOL (Grill et al., 2020, appendix B) and DINO
# (``ImageOps.solarize``'s default in facebookresearch/dino utils.py).
SOLARIZE_THRESHOLD = 128
# Greyscale weights (R, G, B): ITU-R 601 luma, as the configs'
# RandomGrayscale channel_weights (given there in the BGR order of mmcv).
GRAY_WEIGHTS_RGB = (0.2989, 0.587, 0.114)

GroupsLike = Sequence[Union['ViewGroup', Mapping, Tuple[str, int]]]


@dataclass(frozen=True)
class ViewGroup:
    """One group of views of the spec (see the module docstring).

    Attributes:
        name (str): The group's name.
        num_views (int): Views per image.
        size (int): Output side in pixels.
        scale (tuple[float, float]): Crop area fraction range.
        jitter (tuple[float, ...]): Brightness, contrast, saturation, hue.
        jitter_prob (float): Probability of the colour jitter.
        gray_prob (float): Probability of greyscale.
        blur_prob (float): Probability of the Gaussian blur.
        solarize_prob (float): Probability of solarizing.
        flip_prob (float): Probability of the horizontal flip.
    """
    name: str
    num_views: int
    size: int
    scale: Tuple[float, float] = (0.2, 1.0)
    jitter: Tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_prob: float = 0.8
    gray_prob: float = 0.2
    blur_prob: float = 0.0
    solarize_prob: float = 0.0
    flip_prob: float = 0.5


_KEYS = tuple(f.name for f in fields(ViewGroup))
_REQUIRED = ('name', 'num_views', 'size')
_PROBS = ('jitter_prob', 'gray_prob', 'blur_prob', 'solarize_prob',
          'flip_prob')


def _is_number(value) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


def _is_numbers(value, length: int) -> bool:
    """A list or tuple of ``length`` numbers."""
    return isinstance(value, (list, tuple)) and len(value) == length \
        and all(_is_number(v) for v in value)


def _is_list(value) -> bool:
    """A non-empty list or tuple (not a dict or a string)."""
    return isinstance(value, (list, tuple)) and len(value) > 0


def _parse_group(group: Mapping, where: str) -> ViewGroup:
    """Check one group's keys and values; ``where`` names it in errors."""
    unknown = sorted(set(group) - set(_KEYS))
    if unknown:
        raise ConfigError(f'{where} has unknown key(s) {unknown}; a view '
                          f'group takes {list(_KEYS)}')
    missing = [key for key in _REQUIRED if key not in group]
    if missing:
        raise ConfigError(f'{where} lacks {missing}: every view group states '
                          'name, num_views and size')
    name = group['name']
    if not isinstance(name, str) or not name:
        raise ConfigError(f'{where}.name must be a non-empty string, '
                          f'got {name!r}')
    for key in ('num_views', 'size'):
        value = group[key]
        if not isinstance(value, Integral) or isinstance(value, bool) \
                or value < 1:
            raise ConfigError(f'{where}.{key} must be a positive int, '
                              f'got {value!r}')
    values = dict(group)
    scale = values.get('scale', ViewGroup.scale)
    numbers = _is_numbers(scale, 2)
    if not (numbers and 0 < scale[0] <= scale[1] <= 1):
        raise ConfigError(f'{where}.scale must be an area fraction range '
                          '(min, max) with 0 < min <= max <= 1, '
                          f'got {scale!r}')
    values['scale'] = tuple(float(s) for s in scale)
    jitter = values.get('jitter', ViewGroup.jitter)
    numbers = _is_numbers(jitter, 4)
    if not (numbers and min(jitter) >= 0 and jitter[3] <= 0.5):
        raise ConfigError(
            f'{where}.jitter must be 4 non-negative numbers (brightness, '
            f'contrast, saturation, hue <= 0.5), got {jitter!r}')
    values['jitter'] = tuple(float(j) for j in jitter)
    for key in _PROBS:
        prob = values.get(key, getattr(ViewGroup, key))
        if not (_is_number(prob) and 0 <= prob <= 1):
            raise ConfigError(f'{where}.{key} must be a probability in '
                              f'[0, 1], got {prob!r}')
        values[key] = float(prob)
    values['num_views'] = int(values['num_views'])
    values['size'] = int(values['size'])
    return ViewGroup(**values)


def parse_views(views: Sequence[Union[ViewGroup, Mapping]],
                key: str = 'views') -> List[ViewGroup]:
    """Check a multi-view spec and fill in its defaults.

    Args:
        views (Sequence[dict | ViewGroup]): The groups, in view order.
        key (str): The spec's config key, named in errors. Defaults to
            ``'views'``.

    Returns:
        list[ViewGroup]: The groups with every field set.

    Raises:
        ConfigError: The spec is empty, or a group has an unknown or missing
            key or a bad value (the message names ``key[i].field``).
    """
    if not _is_list(views):
        raise ConfigError(f'{key} must be a non-empty list of view groups '
                          "(dicts with name, num_views, size, ...), got "
                          f'{views!r}')
    groups = []
    for i, group in enumerate(views):
        if isinstance(group, ViewGroup):
            group = {f: getattr(group, f) for f in _KEYS}
        if not isinstance(group, Mapping):
            raise ConfigError(f'{key}[{i}] must be a dict, got {group!r}')
        groups.append(_parse_group(group, f'{key}[{i}]'))
    return groups


def view_counts(groups: GroupsLike,
                key: str = 'views') -> List[Tuple[str, int]]:
    """``(name, num_views)`` of every group, in order.

    Args:
        groups (Sequence): A spec (dicts or :class:`ViewGroup`) or
            ``(name, count)`` pairs.
        key (str): The config key named in errors. Defaults to ``'views'``.

    Returns:
        list[tuple[str, int]]: The names and counts.
    """
    if not _is_list(groups):
        raise ConfigError(f'{key} must be a non-empty list of view groups, '
                          f'got {groups!r}')
    if all(isinstance(g, Sequence) and not isinstance(g, str) for g in groups):
        counts = []
        for i, pair in enumerate(groups):
            if not (len(pair) == 2 and isinstance(pair[0], str)
                    and isinstance(pair[1], Integral) and pair[1] >= 1):
                raise ConfigError(f'{key}[{i}] must be a (name, count) pair '
                                  f'with count >= 1, got {pair!r}')
            counts.append((pair[0], int(pair[1])))
        return counts
    return [(g.name, g.num_views) for g in parse_views(groups, key)]


def split_views(inputs: Sequence[Tensor],
                groups: GroupsLike,
                key: str = 'views') -> Dict[str, List[Tensor]]:
    """Hand an algorithm its views by group.

    Args:
        inputs (Sequence[Tensor]): The views of a batch, in spec order (what
            the data preprocessor returns as ``inputs``).
        groups (Sequence): The spec (dicts or :class:`ViewGroup`) or
            ``(name, count)`` pairs.
        key (str): The config key that states the groups, named in the
            error (e.g. ``'model.views'``). Defaults to ``'views'``.

    Returns:
        dict[str, list[Tensor]]: The views of each group name, in order
        (groups sharing a name are gathered under it).

    Raises:
        ConfigError: ``inputs`` is not a list of views, or holds a number of
            views other than the groups state.
    """
    counts = view_counts(groups, key)
    expected = sum(count for _, count in counts)
    stated = ' + '.join(f'{count} {name}' for name, count in counts)
    if isinstance(inputs, Tensor) or not isinstance(inputs, Sequence):
        raise ConfigError(
            f'{key} states {expected} views per image ({stated}), but the '
            f'inputs are one {type(inputs).__name__}, not a list of views: '
            'make the views with MultiViewGroups in the dataset pipeline or '
            'MultiViewAugmentPreprocessor')
    if len(inputs) != expected:
        raise ConfigError(
            f'{key} states {expected} views per image ({stated}), but the '
            f'pipeline gave {len(inputs)}: make the dataset pipeline '
            '(MultiViewGroups views / MultiView num_views) or the data '
            f'preprocessor agree with {key}')
    out: Dict[str, List[Tensor]] = {}
    start = 0
    for name, count in counts:
        out.setdefault(name, []).extend(inputs[start:start + count])
        start += count
    return out
