"""A frozen teacher: backbone (+ projection neck) loaded from a checkpoint."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmpretrain.models.necks import SwAVNeck
from torch import Tensor

from mmseed.registry import MODELS
from mmseed.errors import CheckpointError
from mmseed.utils.shapes import check_linear_input
from .checkpoint_formats import load_teacher_weights

__all__ = ['FrozenTeacher']


@MODELS.register_module()
class FrozenTeacher(BaseModule):
    """A self-supervised network used as a fixed target.

    Its weights come from ``checkpoint`` (any format that
    :func:`load_teacher_weights` detects: official MoCo, SwAV, SimCLR in
    torchvision layout, torchvision, mmpretrain/mmselfsup, mmseed). It never
    trains: parameters have ``requires_grad=False``, the forward runs under
    ``torch.inference_mode()`` (no autograd records, no version counters),
    and the module stays in eval mode whatever
    ``train()`` calls it receives, so BatchNorm statistics never change.

    The checkpoint is loaded by :meth:`init_weights`, which mmengine's runner
    calls before training (and which replaces any other initialisation), so
    building the model alone needs no file.

    Args:
        backbone (dict): Backbone config, e.g. ``dict(type='ResNet', depth=50)``.
        neck (dict, optional): Projection head as the teacher was trained,
            e.g. MoCo-v2's ``MoCoV2Neck``. Without one the embedding is the
            globally pooled last backbone feature.
        checkpoint (str, optional): Path of the teacher checkpoint. Required
            for training.
        init_cfg (dict, optional): Not used for the weights; kept for
            mmengine's interface.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 checkpoint: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.checkpoint = checkpoint
        self.requires_grad_(False)
        self.train(False)

    def init_weights(self) -> None:
        """Load the teacher's weights from ``checkpoint``."""
        if not self.checkpoint:
            raise CheckpointError(
                'the teacher has no checkpoint: set model.teacher.checkpoint='
                'PATH (e.g. with --cfg-options)')
        fmt = load_teacher_weights(self, self.checkpoint)
        print_log(f'teacher loaded from {self.checkpoint} ({fmt} format)',
                  logger='current')
        self._is_init = True

    def train(self, mode: bool = True) -> 'FrozenTeacher':
        """Stay in eval mode: the teacher's BatchNorm statistics are fixed."""
        return super().train(False)

    def forward(self, inputs: Tensor) -> Tensor:
        """Embed a batch of images, under ``torch.inference_mode()``.

        Args:
            inputs (Tensor): Images, shape (N, C, H, W).

        Returns:
            Tensor: Embeddings, shape (N, D), not normalised; an ordinary
            tensor that needs no gradient.
        """
        with torch.inference_mode():
            embeddings = self._embed(inputs)
        # Inference tensors may not be saved for a backward pass or changed
        # in place outside inference mode; a copy of the (N, D) output
        # (negligible next to the forward) is an ordinary tensor.
        return embeddings.clone()

    def _embed(self, inputs: Tensor) -> Tensor:
        feats = self.backbone(inputs)
        if self.neck is None:
            return F.adaptive_avg_pool2d(feats[-1], 1).flatten(1)
        check_linear_input(self.neck, feats[-1], 'model.teacher.neck')
        if isinstance(self.neck, SwAVNeck):
            # SwAVNeck takes a list of per-crop feature tuples and returns a
            # tensor; the other necks take one tuple and return a tuple.
            return self.neck([feats])
        return self.neck(feats)[0]
