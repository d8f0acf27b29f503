"""A projection head written as its layer sequence."""
from typing import List, Optional, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.registry import MODELS

__all__ = ['MLPNeck']


@MODELS.register_module()
class MLPNeck(BaseModule):
    """Pool the last backbone feature, then apply ``layers`` in order.

    For heads whose layers other necks do not express, such as the official
    SEED students' (jacobswan1/SEED): MobileNetV3-Large keeps its classifier
    layer ``Linear(960, 1280) - h-swish - Dropout(0.2)`` before the MLP,
    EfficientNet-B0 has ``Dropout(0.2)`` before it::

        layers=[dict(linear=1280), dict(act='HSwish'), dict(dropout=0.2),
                dict(linear=1280), dict(act='ReLU'), dict(linear=128)]

    Args:
        in_channels (int): Width of the backbone's last feature.
        layers (Sequence[dict]): Each one of ``dict(linear=C)`` (a Linear
            layer to C outputs, with bias; ``bias=False`` to drop it),
            ``dict(dropout=P)`` or ``dict(act=NAME)``, an activation mmcv
            builds (``'ReLU'``, ``'HSwish'``, ``'Swish'``, ``'GELU'``, ...).
        with_avg_pool (bool): Pool (N, C, H, W) features to (N, C). Defaults
            to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 layers: Sequence[dict],
                 with_avg_pool: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.with_avg_pool = with_avg_pool
        modules: List[nn.Module] = []
        width = in_channels
        for i, layer in enumerate(layers):
            layer = dict(layer)
            kinds = [k for k in ('linear', 'dropout', 'act') if k in layer]
            if len(kinds) != 1 or (set(layer) - {kinds[0], 'bias'}) or (
                    'bias' in layer and kinds != ['linear']):
                raise ConfigError(
                    f'MLPNeck layers[{i}] must be dict(linear=C[, bias]), '
                    f'dict(dropout=P) or dict(act=NAME), got {layer}')
            if kinds == ['linear']:
                out = layer['linear']
                modules.append(nn.Linear(width, out,
                                         bias=layer.get('bias', True)))
                width = out
            elif kinds == ['dropout']:
                modules.append(nn.Dropout(layer['dropout']))
            else:
                modules.append(build_activation_layer(dict(type=layer['act'])))
        if not any(isinstance(m, nn.Linear) for m in modules):
            raise ConfigError('MLPNeck needs at least one Linear layer in '
                              'layers')
        self.mlp = nn.Sequential(*modules)
        self.out_channels = width

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tuple[Tensor]:
        """Project the last feature of a backbone's outputs.

        Args:
            inputs (tuple[Tensor]): Backbone features; the last is used.

        Returns:
            tuple[Tensor]: ``(embedding, )``, (N, out_channels).
        """
        x = inputs[-1]
        if self.with_avg_pool:
            x = F.adaptive_avg_pool2d(x, 1)
        return (self.mlp(x.flatten(1)), )
