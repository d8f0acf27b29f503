"""SwAV's projection head with the interface of the other necks."""
from typing import Tuple

import torch.nn.functional as F
from mmpretrain.models.necks import SwAVNeck
from torch import Tensor

from mmseed.errors import ConfigError
from mmseed.registry import MODELS
from mmseed.utils.config_check import TrainingSetting, register_config_check

__all__ = ['SwAVProjectionNeck']


@register_config_check('SwAVNeck')
def _check_teacher_neck(cfg: dict, key: str, setting: TrainingSetting) -> None:
    """``SwAVNeck`` takes multi-crop lists: as a teacher's neck it needs
    this adapter (same weights)."""
    if key.endswith('teacher.neck'):
        raise ConfigError(
            f"{key}: SwAVNeck takes a list of multi-crop feature tuples; as "
            "a teacher's neck use type='SwAVProjectionNeck' (the same "
            'modules and weights)')


@MODELS.register_module()
class SwAVProjectionNeck(SwAVNeck):
    """mmpretrain's ``SwAVNeck`` that takes and returns a feature tuple.

    ``SwAVNeck.forward`` takes a list of per-crop feature tuples (SwAV's
    multi-crop) and returns a tensor; every other neck takes one backbone
    feature tuple and returns a tuple. This adapter pools the last feature
    and applies SwAV's projection (Linear-BN-ReLU-Linear, then L2
    normalisation with ``with_l2norm``) the same way, returning
    ``(embedding, )``, so a teacher or student uses it like any neck. Its
    modules and weight keys are ``SwAVNeck``'s (``projection_neck.*``, its
    BatchNorm also as ``norm.*``), so SwAV checkpoints load unchanged.

    Args: as ``SwAVNeck``.
    """

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor]:
        """Project the pooled last feature of a backbone's outputs.

        Args:
            inputs (tuple[Tensor]): Backbone features; the last is used,
                (N, C, H, W), or (N, C) without ``with_avg_pool``.

        Returns:
            tuple[Tensor]: ``(embedding, )``, (N, out_channels).
        """
        x = inputs[-1]
        if self.with_avg_pool:
            x = F.adaptive_avg_pool2d(x, 1)
        return (self.forward_projection(x.flatten(1)), )
