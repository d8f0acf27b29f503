"""Momentum (EMA) encoders: a fused update and the cosine momentum schedule.

An EMA encoder follows a trained one: after each step its weights become
``ema + momentum * (online - ema)``. ``momentum`` is the weight of the new
value, mmengine's convention (``ExponentialMovingAverage``): MoCo's key
encoder "m = 0.999" is ``momentum=0.001``; DINO's and EsViT's teacher
"0.996 -> 1" is ``momentum`` 0.004 -> 0.
"""
import math
from typing import List

import torch
from torch import Tensor, nn

__all__ = ['ema_update_', 'cosine_momentum']


def _tensors(tensors) -> List[Tensor]:
    return [t.data for t in tensors]


@torch.no_grad()
def ema_update_(ema: nn.Module, online: nn.Module, momentum: float,
                copy_buffers: bool = True) -> None:
    """Move ``ema``'s parameters towards ``online``'s, in place.

    ``ema <- ema + momentum * (online - ema)`` for every parameter, as one
    fused ``torch._foreach_lerp_`` (the arithmetic of ``torch.lerp``, which
    mmengine's ``ExponentialMovingAverage`` applies tensor by tensor);
    buffers (BatchNorm statistics) are copied from ``online`` in one
    ``torch._foreach_copy_`` unless ``copy_buffers`` is False.

    Args:
        ema (nn.Module): The momentum encoder, updated in place.
        online (nn.Module): The trained encoder, with the same parameters
            and buffers in the same order.
        momentum (float): Weight of the online value, in [0, 1].
        copy_buffers (bool): Copy the buffers. Defaults to True.
    """
    ema_params = _tensors(ema.parameters())
    online_params = _tensors(online.parameters())
    if len(ema_params) != len(online_params):
        raise ValueError(f'EMA update of {len(ema_params)} parameters from '
                         f'{len(online_params)}: the encoders differ')
    torch._foreach_lerp_(ema_params, online_params, momentum)
    if copy_buffers:
        ema_buffers = _tensors(ema.buffers())
        if ema_buffers:
            torch._foreach_copy_(ema_buffers, _tensors(online.buffers()))


def cosine_momentum(step: int, total: int, start: float,
                    end: float = 0.) -> float:
    """The momentum at ``step`` of a cosine schedule from ``start`` to ``end``.

    ``end - (end - start) * (cos(pi * step / total) + 1) / 2``: ``start`` at
    step 0, ``end`` at ``total`` and after (BYOL, Grill et al. 2020; DINO's
    ``cosine_scheduler`` from ``momentum_teacher`` to 1, facebookresearch/
    dino ``utils.py``, in the teacher's convention).

    Args:
        step (int): Current step (iteration or epoch), from 0.
        total (int): Steps of the schedule.
        start (float): Momentum at step 0, e.g. 0.004 (teacher 0.996).
        end (float): Momentum at the end. Defaults to 0 (teacher 1).

    Returns:
        float: The momentum.
    """
    if total <= 0:
        raise ValueError(f'cosine_momentum needs total > 0, got {total}')
    progress = min(max(step, 0), total) / total
    return end - (end - start) * (math.cos(math.pi * progress) + 1) / 2
