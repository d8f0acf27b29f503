"""SimCLR (Chen et al., ICML 2020) with NT-Xent over every rank's batch."""
from typing import Dict, List

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
    Each view runs through the network on its own (BatchNorm statistics per
    view), as DoGo's peers do, so a SimCLR run is DoGo's peer without its
    partner.

    Args:
        backbone (dict): Backbone config.
        neck (dict): Projection head config.
        temperature (float): NT-Xent temperature. Defaults to 0.5.
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self, backbone: dict, neck: dict, temperature: float = 0.5,
                 data_preprocessor=None, init_cfg=None) -> None:
        super().__init__(backbone=backbone, neck=neck,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.temperature = temperature

    def embed(self, images: Tensor) -> Tensor:
        """The projection of one view, (N, D)."""
        feats = self.backbone(images)
        check_linear_input(self.neck, feats[-1], 'model.neck')
        return self.neck(feats)[0]

    def loss(self, inputs: List[Tensor],
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """NT-Xent of the two views.

        Args:
            inputs (List[Tensor]): The two views.
            data_samples (List[DataSample]): Unused (no labels).

        Returns:
            Dict[str, Tensor]: ``loss``.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            count = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ConfigError(
                f'SimCLR expects 2 views per image from the pipeline, got '
                f'{count}: use 2 views in the dataset pipeline')
        return dict(loss=nt_xent(self.embed(inputs[0]),
                                 self.embed(inputs[1]), self.temperature))
