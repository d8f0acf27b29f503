"""SimCLR (Chen et al., ICML 2020) with NT-Xent over every rank's batch."""
from typing import Dict, List

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.structures import DataSample
from torch import Tensor

from mmseed.errors import ConfigError
from mmseed.models.losses import nt_xent
from mmseed.registry import MODELS
from mmseed.utils.shapes import check_linear_input

__all__ = ['SimCLR']


@MODELS.register_module()
class SimCLR(BaseSelfSupervisor):
    """Backbone + projection head trained by NT-Xent on two views.

    mmpretrain's ``SimCLR`` (``type='mmpretrain.SimCLR'``) gathers the
    embeddings of other ranks without their gradients; this one uses
    :func:`mmseed.models.losses.nt_xent`, whose gather passes them back, so
    a multi-process run trains as one process on the global batch would.
    By default each view runs through the network on its own (BatchNorm
    statistics per view), as DoGo's peers do, so a SimCLR run is DoGo's peer
    without its partner; ``views_in_one_batch=True`` runs both views as one
    batch of 2N, as google-research/simclr does (``run.py``: the views are
    concatenated on the batch axis before the network).

    Args:
        backbone (dict): Backbone config.
        neck (dict): Projection head config.
        temperature (float): NT-Xent temperature. Defaults to 0.5.
        loss_weight (float): Factor of the loss. :func:`nt_xent` averages
            over the 2N anchors; google-research/simclr (``objective.py``)
            sums the two views' cross-entropies, each averaged over N, i.e.
            2x that: ``loss_weight=2`` reproduces its value and gradients.
            Defaults to 1.
        views_in_one_batch (bool): Forward both views together. Defaults to
            False.
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self, backbone: dict, neck: dict, temperature: float = 0.5,
                 loss_weight: float = 1., views_in_one_batch: bool = False,
                 data_preprocessor=None, init_cfg=None) -> None:
        super().__init__(backbone=backbone, neck=neck,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.views_in_one_batch = views_in_one_batch

    def embed(self, images: Tensor) -> Tensor:
        """The projection of one view, (N, D)."""
        feats = self.backbone(images)
        check_linear_input(self.neck, feats[-1], 'model.neck')
        return self.neck(feats)[0]

    def embed_views(self, inputs: List[Tensor]) -> List[Tensor]:
        """The projections of the two views, checked to be two."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            count = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ConfigError(
                f'{type(self).__name__} expects 2 views per image from the '
                f'pipeline, got {count}: use 2 views in the dataset pipeline')
        if self.views_in_one_batch:
            return list(self.embed(torch.cat(inputs)).chunk(2))
        return [self.embed(view) for view in inputs]

    def loss(self, inputs: List[Tensor],
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """NT-Xent of the two views.

        Args:
            inputs (List[Tensor]): The two views.
            data_samples (List[DataSample]): Unused (no labels).

        Returns:
            Dict[str, Tensor]: ``loss``.
        """
        z1, z2 = self.embed_views(inputs)
        return dict(loss=self.loss_weight * nt_xent(z1, z2, self.temperature))
