"""A frozen teacher: an encoder loaded from a checkpoint, with named outputs.
"""
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from mmseed.errors import CheckpointError, ConfigError
from mmseed.registry import MODELS
from mmseed.utils.shapes import check_linear_input
from .checkpoint_formats import load_teacher_weights

__all__ = ['FrozenTeacher', 'TEACHER_OUTPUTS']

# What a teacher can return, see FrozenTeacher.forward.
TEACHER_OUTPUTS = ('feature', 'embedding', 'logits')


@MODELS.register_module()
class FrozenTeacher(BaseModule):
    """A pretrained network used as a fixed target.

    Any encoder: a ``backbone``, optionally a projection ``neck`` (as the
    teacher was trained, e.g. MoCo-v2's ``MoCoV2Neck``) and a classifier
    ``head`` (e.g. ``LinearClsHead``, for methods that distil logits). Its
    weights come from ``checkpoint``, in any format that
    :func:`load_teacher_weights` detects (official MoCo, SwAV, SimCLR in
    torchvision layout, torchvision, mmpretrain/mmselfsup, mmseed). It never
    trains: parameters have ``requires_grad=False``, the forward runs under
    ``torch.inference_mode()`` (no autograd records, no version counters),
    and the module stays in eval mode whatever ``train()`` calls it
    receives, so BatchNorm statistics never change.

    The checkpoint is loaded by :meth:`init_weights`, which mmengine's runner
    calls before training (and which replaces any other initialisation), so
    building the model alone needs no file.

    Args:
        backbone (dict): Backbone config, e.g. ``dict(type='ResNet', depth=50)``.
        neck (dict, optional): Projection head; it takes the backbone's
            feature tuple and returns a tuple, as mmpretrain's necks do
            (SwAV's through :class:`SwAVProjectionNeck`). Without one the
            embedding is the pooled feature.
        head (dict, optional): Classifier (of ``head_input``), e.g.
            ``dict(type='LinearClsHead', num_classes=1000, in_channels=2048)``;
            needed for ``'logits'``.
        checkpoint (str, optional): Path of the teacher checkpoint. Required
            for training.
        head_input (str): What the head classifies: ``'feature'`` (default,
            the pooled backbone feature) or ``'embedding'`` (the neck's
            output: a classifier whose neck is part of it, such as one
            fine-tuned from a projection head's layer).
        init_cfg (dict, optional): Not used for the weights; kept for
            mmengine's interface.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 checkpoint: Optional[str] = None,
                 head_input: str = 'feature',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if head_input not in ('feature', 'embedding'):
            raise ConfigError(f"model.teacher.head_input must be 'feature' "
                              f"or 'embedding', got {head_input!r}")
        if head_input == 'embedding' and neck is None:
            raise ConfigError("model.teacher.head_input='embedding' needs a "
                              'model.teacher.neck whose output the head '
                              'classifies')
        self.head_input = head_input
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head) if head is not None else None
        self.checkpoint = checkpoint
        self.requires_grad_(False)
        self.train(False)

    @classmethod
    def check_config(cls, cfg: dict, key: str, setting) -> None:
        """Check, before training, that the teacher's checkpoint exists.

        Args:
            cfg (dict): This teacher's config.
            key (str): Its place in the config, e.g. ``model.teacher``.
            setting (TrainingSetting): What the run is.
        """
        path = cfg.get('checkpoint')
        if path and not Path(path).is_file():
            raise ConfigError(
                f'teacher checkpoint not found: {path}; train or download '
                f'the teacher and set --cfg-options {key}.checkpoint=PATH')

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

    def forward(
        self,
        inputs: Tensor,
        outputs: Union[str, Sequence[str]] = 'embedding'
    ) -> Union[Tensor, Dict[str, Tensor]]:
        """Run the teacher on a batch of images, under inference mode.

        Args:
            inputs (Tensor): Images, shape (N, C, H, W).
            outputs (str | Sequence[str]): What to return, one or several
                of ``'feature'`` (the globally pooled last backbone
                feature, (N, C)), ``'embedding'`` (the neck's output, (N, D),
                not normalised; the pooled feature without a neck) and
                ``'logits'`` (the head's class scores, (N, classes)).
                Defaults to ``'embedding'``.

        Returns:
            Tensor | dict[str, Tensor]: The output for one name, a dict for
            several; ordinary tensors that need no gradient.
        """
        names = (outputs, ) if isinstance(outputs, str) else tuple(outputs)
        unknown = [n for n in names if n not in TEACHER_OUTPUTS]
        if unknown:
            raise ConfigError(f'the teacher has no output {unknown[0]!r}; '
                              f'choose from {", ".join(TEACHER_OUTPUTS)}')
        if 'logits' in names and self.head is None:
            raise ConfigError(
                'the teacher has no classifier head for logits: set '
                'model.teacher.head (e.g. dict(type=\'LinearClsHead\', '
                'num_classes=..., in_channels=...)) and a checkpoint that '
                'has its weights')
        with torch.inference_mode():
            found = self._outputs(inputs, names)
        # Inference tensors may not be saved for a backward pass or changed
        # in place outside inference mode; a copy of each (N, D) output
        # (negligible next to the forward) is an ordinary tensor.
        found = {name: found[name].clone() for name in names}
        return found[outputs] if isinstance(outputs, str) else found

    def _outputs(self, inputs: Tensor, names: Sequence[str]) -> dict:
        feats = self.backbone(inputs)
        found = {}
        if 'logits' in names:
            names = (*names, self.head_input)
        if 'feature' in names or self.neck is None:
            found['feature'] = F.adaptive_avg_pool2d(feats[-1], 1).flatten(1)
        if 'embedding' in names:
            if self.neck is None:
                found['embedding'] = found['feature']
            else:
                check_linear_input(self.neck, feats[-1], 'model.teacher.neck')
                embedding = self.neck(feats)
                if not isinstance(embedding, (tuple, list)):
                    raise ConfigError(
                        f'model.teacher.neck ({type(self.neck).__name__}) '
                        f'returned a {type(embedding).__name__}: a teacher '
                        'neck takes the backbone\'s feature tuple and '
                        'returns a tuple, as mmpretrain\'s necks do; use '
                        'one that does or an adapter')
                found['embedding'] = embedding[0]
        if 'logits' in names:
            found['logits'] = self.head((found[self.head_input], ))
        return found
