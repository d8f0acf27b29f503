"""The CPU pipeline of a multi-view spec (:mod:`mmseed.models.utils.views`)."""
from typing import List, Mapping, Sequence, Union

from mmpretrain.datasets.transforms import MultiView

from mmseed.models.utils.views import (BLUR_SIGMA, CROP_RATIO,
                                       GRAY_WEIGHTS_RGB, SOLARIZE_THRESHOLD,
                                       ViewGroup, parse_views)
from mmseed.registry import TRANSFORMS

__all__ = ['MultiViewGroups', 'view_transforms']


def view_transforms(group: ViewGroup) -> List[dict]:
    """The transform configs that make one view of ``group`` on the CPU.

    mmpretrain / mmcv transforms in the order of the hand-written MoCo-v2
    pipelines (``configs/_base_/datasets/cifar10_mocov2.py``,
    ``imagenet_mocov2.py``): ``RandomResizedCrop(backend='pillow')`` ->
    ``RandomApply([ColorJitter])`` -> ``RandomGrayscale`` -> ``GaussianBlur``
    -> ``Solarize`` -> ``RandomFlip``, an operation left out where its
    probability is 0 (so that it draws no random number either).

    Args:
        group (ViewGroup): A parsed view group.

    Returns:
        list[dict]: The transform configs.
    """
    steps = [
        dict(type='RandomResizedCrop',
             scale=group.size,
             crop_ratio_range=group.scale,
             aspect_ratio_range=CROP_RATIO,
             backend='pillow')
    ]
    if group.jitter_prob > 0 and any(group.jitter):
        brightness, contrast, saturation, hue = group.jitter
        steps.append(
            dict(type='RandomApply',
                 transforms=[
                     dict(type='ColorJitter',
                          brightness=brightness,
                          contrast=contrast,
                          saturation=saturation,
                          hue=hue)
                 ],
                 prob=group.jitter_prob))
    if group.gray_prob > 0:
        # The images are BGR, as mmcv decodes them.
        steps.append(
            dict(type='RandomGrayscale',
                 prob=group.gray_prob,
                 keep_channels=True,
                 channel_weights=tuple(reversed(GRAY_WEIGHTS_RGB))))
    if group.blur_prob > 0:
        # magnitude_std='inf': sigma uniform in magnitude_range.
        steps.append(
            dict(type='GaussianBlur',
                 magnitude_range=BLUR_SIGMA,
                 magnitude_std='inf',
                 prob=group.blur_prob))
    if group.solarize_prob > 0:
        steps.append(
            dict(type='Solarize',
                 thr=SOLARIZE_THRESHOLD,
                 prob=group.solarize_prob))
    if group.flip_prob > 0:
        steps.append(dict(type='RandomFlip', prob=group.flip_prob))
    return steps


def _build(step: dict):
    """Build a transform config with mmseed's registry, nested ones too (so
    no default scope is needed)."""
    step = dict(step)
    if 'transforms' in step:
        step['transforms'] = [_build(t) for t in step['transforms']]
    return TRANSFORMS.build(step)


@TRANSFORMS.register_module()
class MultiViewGroups(MultiView):
    """mmpretrain's ``MultiView`` with the views stated as a multi-view spec.

    Makes every group's ``num_views`` views, group after group, each with its
    group's :func:`view_transforms`; ``PackInputs`` then packs them as the
    list of views the algorithm receives. For the MoCo-v2 recipes it runs
    the transforms of the hand-written pipelines in their order, so a seed
    gives the same views bit for bit.

    Example::

        dict(type='MultiViewGroups', views=[
            dict(name='global', num_views=1, size=224, scale=(0.14, 1.),
                 blur_prob=0.5),
            dict(name='patch', num_views=6, size=96, scale=(0.05, 0.14),
                 blur_prob=0.5),
        ])

    Args:
        views (Sequence[dict]): The view groups (see
            :mod:`mmseed.models.utils.views`).
    """

    def __init__(self, views: Sequence[Union[Mapping, ViewGroup]]) -> None:
        self.groups = parse_views(views, 'MultiViewGroups.views')
        super().__init__(
            transforms=[[_build(step) for step in view_transforms(g)]
                        for g in self.groups],
            num_views=[g.num_views for g in self.groups])

    def __repr__(self) -> str:
        groups = ', '.join(f'{g.name}: {g.num_views} x {g.size} px'
                           for g in self.groups)
        return f'{type(self).__name__}({groups})'
