"""MoCo-v2 (Chen et al., 2020) with the key encoder computed first."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmpretrain.models import MoCo
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.utils import ema_update_
from mmseed.registry import MODELS
from mmseed.utils.config_check import (TrainingSetting, config_value,
                                       register_config_check)

__all__ = ['MoCoV2', 'check_queue_of_whole_batches']


# mmpretrain's MoCo and DenseCL (and so MoCoV2) enqueue whole global batches
# and assert that they divide the queue (``assert self.queue_len %
# batch_size == 0`` in ``_dequeue_and_enqueue``).
@register_config_check('MoCo', 'DenseCL')
def check_queue_of_whole_batches(cfg: dict, key: str,
                                 setting: TrainingSetting) -> None:
    """Check that the global batch divides the queue length.

    Args:
        cfg (dict): A MoCo / DenseCL / MoCoV2 model config.
        key (str): Its key, ``model``.
        setting (TrainingSetting): Batch and processes of the run.

    Raises:
        ConfigError: It does not.
    """
    queue_len = config_value(cfg, 'queue_len')
    total = setting.global_batch
    if not isinstance(queue_len, int) or total is None or not queue_len % total:
        return
    kind = cfg['type'].rsplit('.', 1)[-1] if isinstance(cfg['type'], str) \
        else cfg['type'].__name__
    fit = -(-queue_len // total) * total
    raise ConfigError(
        f'{kind} needs {key}.queue_len={queue_len} to be a multiple of the '
        f'{setting.global_batch_source}: set {key}.queue_len={fit} or a '
        f'batch size that divides {queue_len}')


@MODELS.register_module()
class MoCoV2(MoCo):
    """mmpretrain's ``MoCo``, with the key (momentum) encoder's work done
    before the query encoder's, and its momentum update fused.

    Same arguments, modules, state-dict keys and maths as ``MoCo`` (MoCo-v2
    with a ``MoCoV2Neck``, v1 with a linear neck): the loss, gradients,
    weights, query BatchNorm statistics and queue are bit-identical, step by
    step, to those of ``MoCo`` (a test checks this). Two things differ:

    * **Order.** The key encoder's momentum update and forward come first,
      then the query forward, as a frozen SEED teacher does: on CPU the key
      forward no longer runs while the query's activations fill the caches
      (the student's MoCo-v2 step is the baseline SEED is compared with in
      ``tools/benchmarks/throughput.py``).
    * **Fused update.** The momentum update is
      :func:`mmseed.models.utils.ema_update_`: one ``torch._foreach_lerp_``
      over the parameters and one ``torch._foreach_copy_`` over the buffers,
      the arithmetic of mmengine's ``ExponentialMovingAverage`` (``lerp_``
      per tensor, buffers copied from the query encoder) in two calls.

    The one visible consequence of the order: the key encoder's own
    BatchNorm running statistics are copied from the query encoder before the
    query forward of the step rather than after it. MoCo never uses them (the
    key encoder always normalises with batch statistics, and evaluation uses
    the query encoder), so nothing trained depends on them.
    """

    check_config = classmethod(
        lambda cls, cfg, key, setting: check_queue_of_whole_batches(
            cfg, key, setting))

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        """The InfoNCE loss of the query view against its key and the queue.

        Args:
            inputs (List[Tensor]): The two views, query then key.
            data_samples (List[DataSample]): Unused (no labels).

        Returns:
            Dict[str, Tensor]: ``loss``.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            count = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ConfigError(
                f'MoCo expects 2 views per image from the pipeline, got '
                f'{count}: use MultiView with num_views=2 in the dataset '
                'pipeline')
        im_q, im_k = inputs
        with torch.no_grad():
            self._momentum_update()
            # Shuffle BN across ranks (as MoCo does; a permutation on one).
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
            k = F.normalize(self.encoder_k(im_k)[0], dim=1)
            k = batch_unshuffle_ddp(k, idx_unshuffle)

        q = F.normalize(self.neck(self.backbone(im_q))[0], dim=1)
        l_pos = torch.einsum('nc,nc->n', [q, k]).unsqueeze(-1)
        # A copy of the queue: the update below must not change what the
        # backward pass reads.
        l_neg = torch.einsum('nc,ck->nk', [q, self.queue.clone().detach()])
        loss = self.head.loss(l_pos, l_neg)
        self._dequeue_and_enqueue(k)
        return dict(loss=loss)

    def _momentum_update(self) -> None:
        """``encoder_k.update_parameters(backbone + neck)``, fused."""
        ema = self.encoder_k
        query = nn.Sequential(self.backbone, self.neck)
        if ema.steps == 0 or ema.update_buffers or ema.interval != 1:
            # The first call copies the weights; other settings are rare.
            ema.update_parameters(query)
            return
        ema_update_(ema.module, query, ema.momentum)
        ema.steps += 1
