"""SimCLRv2's deeper projection head, and fine-tuning from one of its layers.

SimCLRv2 (Chen et al., NeurIPS 2020) pretrains with a 3-layer projection head
and fine-tunes "from the middle layer": the classifier sits on the head's
first layer instead of the backbone's pooled feature. Facts from
google-research/simclr ``tf2/model.py`` (``ProjectionHead``,
``LinearLayer``): every layer is a Dense without bias followed by
BatchNorm; the hidden layers' BatchNorm has its shift (centre) and a ReLU,
the last has a scale but no shift and no ReLU; the hidden width is the input
width; the kernels start from N(0, 0.01). ``hiddens_list[k]`` is the input of
layer ``k`` (``[0]`` the pooled feature, ``[-1]`` the 128-d output), and
``--ft_proj_selector=k`` puts the classifier on it (``tf2/run.py``).
"""
from collections import OrderedDict
from typing import Optional, Tuple

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseed.errors import CheckpointError, ConfigError
from mmseed.registry import MODELS

__all__ = ['SimCLRv2Neck']


def _batch_norm(width: int, centre: bool) -> nn.BatchNorm1d:
    """BatchNorm1d with a scale, and a shift only if ``centre``
    (``tf.keras`` ``BatchNormalization(center=...)``; eps 1e-5 and TF's
    decay 0.9, i.e. PyTorch's defaults)."""
    try:
        return nn.BatchNorm1d(width, bias=centre)
    except TypeError:  # torch without norm layers' ``bias`` flag
        norm = nn.BatchNorm1d(width)
        if not centre:
            norm.register_parameter('bias', None)
        return norm


@MODELS.register_module()
class SimCLRv2Neck(BaseModule):
    """Pool the last backbone feature, then apply the first ``use_layers``
    layers of SimCLRv2's projection head.

    Layer ``i < num_layers - 1`` is ``Linear(d, d, bias=False) -
    BatchNorm1d(d) - ReLU`` with ``d = in_channels``; the last is
    ``Linear(d, out_channels, bias=False) - BatchNorm1d`` whose shift is
    absent (``bias`` is ``None``). Pretraining uses all of them
    (``use_layers=None``); a fine-tune config keeps the layers below its
    classifier (``use_layers=1``: SimCLRv2's ``ft_proj_selector=1``, "from
    the middle layer"; ``0``: no head, the pooled feature) and builds only
    those, so no unused parameters reach DDP. The layers keep their
    pretraining keys (``layers.0.fc.weight``, ``layers.0.bn.*``, ...; ``bn``
    in the name, so ``paramwise_cfg`` keys exclude them from weight decay and
    LARS as the official code excludes every BatchNorm), so a pretraining
    checkpoint loads
    into the kept ones; a checkpoint that lacks them is refused (the
    fine-tune would otherwise start those layers from random weights).

    Args:
        in_channels (int): Width of the backbone's last feature.
        out_channels (int): Width of the last layer. Defaults to 128
            (``proj_out_dim``).
        num_layers (int): Depth of the pretraining head. Defaults to 3
            (``num_proj_layers``).
        use_layers (int, optional): How many layers to build and apply, from
            0 to ``num_layers``; ``None`` (default) or ``-1`` for all.
        with_avg_pool (bool): Pool (N, C, H, W) features. Defaults to True.
        init_cfg (dict, optional): Initialisation. Defaults to the official
            kernels' N(0, 0.01).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 128,
                 num_layers: int = 3,
                 use_layers: Optional[int] = None,
                 with_avg_pool: bool = True,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', std=0.01, layer='Linear')) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ConfigError(f'SimCLRv2Neck needs num_layers >= 1, got '
                              f'{num_layers}')
        if use_layers is None or use_layers == -1:
            use_layers = num_layers
        if not 0 <= use_layers <= num_layers:
            raise ConfigError(
                f'SimCLRv2Neck use_layers={use_layers}: it must be 0 (no '
                f'head) to num_layers={num_layers}, or -1 for all')
        self.num_layers = num_layers
        self.use_layers = use_layers
        self.with_avg_pool = with_avg_pool
        self.layers = nn.ModuleList()
        for i in range(use_layers):
            last = i == num_layers - 1
            width = out_channels if last else in_channels
            layer = OrderedDict(
                fc=nn.Linear(in_channels, width, bias=False),
                bn=_batch_norm(width, centre=not last))
            if not last:
                layer['relu'] = nn.ReLU(inplace=True)
            self.layers.append(nn.Sequential(layer))
        self.out_channels = out_channels if use_layers == num_layers \
            else in_channels

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor]:
        """Apply the kept layers to the pooled last feature.

        Args:
            inputs (tuple[Tensor]): Backbone features; the last is used.

        Returns:
            tuple[Tensor]: ``(x, )``, (N, out_channels): the embedding the
            contrastive loss normalises, or the input of a classifier.
        """
        x = inputs[-1]
        if self.with_avg_pool:
            x = F.adaptive_avg_pool2d(x, 1)
        x = x.flatten(1)
        for layer in self.layers:
            x = layer(x)
        return (x, )

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Refuse a state dict without the kept layers' weights,
        even in a non-strict load (mmengine's ``Pretrained`` init), which
        would leave them random and only log it."""
        absent = [prefix + k for k in self.state_dict()
                  if prefix + k not in state_dict
                  and not k.endswith('num_batches_tracked')]
        if absent:
            raise CheckpointError(
                f'the checkpoint lacks the SimCLRv2 head weights that '
                f'use_layers={self.use_layers} keeps ({", ".join(absent[:2])}'
                f'{", ..." if len(absent) > 2 else ""}): it was not '
                f'pretrained with this head; set model.{prefix}use_layers=0 '
                f'to fine-tune from the backbone alone')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
