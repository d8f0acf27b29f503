"""EsViT: self-supervised multi-stage vision transformers with a region
matching task (Li et al., "Efficient Self-supervised Vision Transformers for
Representation Learning", ICLR 2022); DINO (Caron et al., 2021) when the
region head is left out."""
import re
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import MessageHub
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.losses import (dino_targets, dino_view_loss,
                                  region_matching_loss)
from mmseed.models.utils import cosine_momentum, ema_update_
from mmseed.registry import MODELS

__all__ = ['EsViT']


def _info(key: str, default: int) -> int:
    value = MessageHub.get_current_instance().get_info(key)
    return default if value is None else int(value)


@MODELS.register_module()
class EsViT(BaseSelfSupervisor):
    """A student and its EMA teacher matched on views and on regions.

    The data pre-processor gives each image's crops, the view groups
    ``global`` (``num_global``, 2 in the paper) then ``local``. The student
    sees every crop, the teacher the global ones; crops of one size go
    through the backbone as one batch (DINO's multi-crop wrapper). The
    backbone's last output, a feature map (N, C, H, W) (Swin, ResNet) or
    tokens (N, T, C), gives the view feature (its mean over positions) and
    the region tokens (its positions). ``head`` (:class:`DINOHead`) maps
    view features to logits, ``region_head`` (:class:`RegionMatchingHead`)
    each token. The loss (microsoft/esvit ``DDINOLoss``) is

        ``view_weight * dino_view_loss + region_weight * region_matching_loss``

    over every (teacher global crop i, student crop v != i) pair, targets
    centred by the teacher heads' centres and sharpened by the teacher
    temperature, which rises linearly from ``warmup_teacher_temp`` to
    ``teacher_temp`` over the first ``warmup_teacher_temp_epochs`` epochs
    (per epoch, as DINO's schedule). After the loss the teacher heads'
    centres move towards the batch's teacher logits.

    The teacher is a copy of the student (drop path off) that follows it:
    before each step, ``teacher <- teacher + m * (student - teacher)`` with
    ``m`` from ``momentum`` to 0 on a cosine over all iterations (teacher
    momentum 0.996 -> 1), i.e. DINO's update after the previous step. Its
    buffers (BatchNorm statistics) are its own, as in DINO. The configs add
    DINO's gradient edits as hooks on the optimizer step:
    ``PerParameterGradClipHook`` (each parameter's gradient clipped to norm
    3 on its own, DINO's ``clip_gradients``) and ``FreezeParametersHook``
    (no update of the heads' ``last_layer`` in the first epoch,
    ``cancel_gradients_last_layer``), and ``CosineWeightDecayHook`` (0.04
    -> 0.4).

    Without ``region_head`` this is DINO, with ``view_weight`` 1.
    ``extract_feat`` (kNN during training) gives the teacher's features, the
    network the official code evaluates.

    Args:
        backbone (dict): The student backbone, e.g. mmpretrain's
            ``SwinTransformer`` (``pad_small_map=True`` for 96-px crops).
        head (dict): The view head, a ``DINOHead``.
        region_head (dict, optional): A ``RegionMatchingHead``; None: view
            loss only.
        num_global (int): Global crops per image. Defaults to 2.
        student_temp (float): Defaults to 0.1.
        teacher_temp (float): Defaults to 0.07 (EsViT's Swin-T launch).
        warmup_teacher_temp (float): Defaults to 0.04.
        warmup_teacher_temp_epochs (int): Defaults to 30.
        momentum (float): Teacher EMA weight of the student at iteration 0
            (mmengine's convention: 1 - 0.996). Defaults to 0.004.
        view_weight (float, optional): Defaults to 0.5 with a region head
            (EsViT), 1 without (DINO).
        region_weight (float): Defaults to 0.5.
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation of the student.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 region_head: Optional[dict] = None,
                 num_global: int = 2,
                 student_temp: float = 0.1,
                 teacher_temp: float = 0.07,
                 warmup_teacher_temp: float = 0.04,
                 warmup_teacher_temp_epochs: int = 30,
                 momentum: float = 0.004,
                 view_weight: Optional[float] = None,
                 region_weight: float = 0.5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if num_global < 1:
            raise ConfigError(
                f'EsViT needs global views (the teacher sees only those), '
                f'got model.num_global={num_global}: give the view spec a '
                "'global' group and set model.num_global to its size")
        super().__init__(backbone=backbone, head=head,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.region_head = (MODELS.build(region_head)
                            if region_head is not None else None)
        teacher_backbone = dict(backbone)
        if 'drop_path_rate' in teacher_backbone:
            teacher_backbone['drop_path_rate'] = 0.  # as the official code
        self.teacher = nn.ModuleDict(dict(
            backbone=MODELS.build(teacher_backbone),
            head=MODELS.build(head)))
        if region_head is not None:
            self.teacher['region_head'] = MODELS.build(region_head)
        self.teacher.requires_grad_(False)
        self.num_global = num_global
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp
        self.warmup_teacher_temp = warmup_teacher_temp
        self.warmup_teacher_temp_epochs = warmup_teacher_temp_epochs
        self.momentum = momentum
        self.view_weight = (view_weight if view_weight is not None else
                            0.5 if region_head is not None else 1.)
        self.region_weight = region_weight

    def _student_modules(self) -> nn.ModuleDict:
        modules = dict(backbone=self.backbone, head=self.head)
        if self.region_head is not None:
            modules['region_head'] = self.region_head
        return nn.ModuleDict(modules)

    def init_weights(self) -> None:
        """Initialise the student, then start the teacher as its copy."""
        super().init_weights()
        self.teacher.load_state_dict(self._student_modules().state_dict())

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """The *teacher* backbone's features: DINO and EsViT evaluate the
        teacher (``--checkpoint_key teacher`` of their kNN and linear
        scripts). Export it with ``tools/model_converters/extract_student.py
        CKPT OUT --module teacher``."""
        return self.teacher['backbone'](inputs)

    def current_teacher_temp(self) -> float:
        """The teacher temperature of the current epoch."""
        warmup, epoch = self.warmup_teacher_temp_epochs, _info('epoch', 0)
        if epoch >= warmup:
            return self.teacher_temp
        if warmup == 1:
            return self.warmup_teacher_temp
        return self.warmup_teacher_temp + (
            self.teacher_temp - self.warmup_teacher_temp) * epoch / (
                warmup - 1)

    def _features(self, backbone: nn.Module,
                  crops: List[Tensor]) -> Tuple[Tensor, Tensor]:
        """Pooled features (N, C) and tokens (N, T, C) of one size of
        crops, batched."""
        try:
            out = backbone(torch.cat(crops))
        except (AssertionError, RuntimeError) as err:
            if not re.search(r'too small|smaller than', str(err)):
                raise
            size = 'x'.join(map(str, crops[0].shape[-2:]))
            raise ConfigError(
                f'the backbone cannot take the {size}-px crops '
                f'({str(err).splitlines()[0]}): use larger crops in the view '
                'spec, or for Swin set model.backbone.pad_small_map=True '
                '(96-px local crops need it)') from None
        out = out[-1] if isinstance(out, (list, tuple)) else out
        if out.dim() == 4:
            tokens = out.flatten(2).transpose(1, 2)
        elif out.dim() == 3:
            tokens = out
        elif self.region_head is not None:
            raise ConfigError(
                f'the backbone outputs {tuple(out.shape)}, one vector per '
                'image: the region loss needs its feature map or tokens '
                "(e.g. SwinTransformer, ResNet, or ViT with out_type="
                "'featmap'), or set model.region_head=None (view loss only)")
        else:
            return out, None
        return tokens.mean(dim=1), tokens

    def _outputs(self, modules, crops: List[Tensor]) -> dict:
        """Head and region-head logits and tokens of each crop, crops of one
        size batched together, split back per crop."""
        sizes = []
        for crop in crops:
            if sizes and sizes[-1][0] == crop.shape[-2:]:
                sizes[-1][1].append(crop)
            else:
                sizes.append((crop.shape[-2:], [crop]))
        found = dict(logits=[], region=[], tokens=[])
        for _, group in sizes:
            pooled, tokens = self._features(modules['backbone'], group)
            found['logits'] += modules['head'](pooled).chunk(len(group))
            if 'region_head' in modules:
                found['region'] += modules['region_head'](tokens).chunk(
                    len(group))
                found['tokens'] += tokens.chunk(len(group))
        return found

    def loss(self, inputs: List[Tensor],
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """The view and region losses of a batch of crops.

        Args:
            inputs (List[Tensor]): Global crops, then local crops.
            data_samples (List[DataSample]): Unused (no labels).

        Returns:
            Dict[str, Tensor]: ``loss_view`` and, with a region head,
            ``loss_region``.
        """
        if not isinstance(inputs, (list, tuple)) or \
                len(inputs) < self.num_global + 1:
            count = 1 if isinstance(inputs, Tensor) else len(inputs)
            raise ConfigError(
                f'EsViT needs model.num_global={self.num_global} global crops '
                f'and at least one more per image, got {count}: check the '
                'view groups of the pipeline or data preprocessor')
        sizes = [tuple(crop.shape[-2:]) for crop in inputs]
        if len(set(sizes[:self.num_global])) != 1 or any(
                a * b > sizes[0][0] * sizes[0][1] for a, b in sizes):
            raise ConfigError(
                f'EsViT reads the first model.num_global={self.num_global} '
                f'crops as the global views, but the crop sizes are {sizes}: '
                "put a 'global' group of that many equal, largest crops "
                'first in the view spec')
        self._momentum_update()
        with torch.no_grad():
            teacher = self._outputs(self.teacher, inputs[:self.num_global])
        student = self._outputs(self._student_modules(), list(inputs))
        temp = self.current_teacher_temp()
        targets = [dino_targets(t, self.teacher['head'].center, temp)
                   for t in teacher['logits']]
        losses = dict(loss_view=self.view_weight * dino_view_loss(
            student['logits'], targets, self.student_temp))
        if self.region_head is not None:
            center = self.teacher['region_head'].center
            region_targets = [dino_targets(t, center, temp)
                              for t in teacher['region']]
            losses['loss_region'] = self.region_weight * region_matching_loss(
                student['region'], region_targets, student['tokens'],
                teacher['tokens'], self.student_temp)
            self.teacher['region_head'].update_center(
                torch.cat(teacher['region']))
        self.teacher['head'].update_center(torch.cat(teacher['logits']))
        return losses

    @torch.no_grad()
    def _momentum_update(self) -> None:
        """DINO's teacher update after the previous step (none at iteration
        0, where both are equal)."""
        step = _info('iter', 0)
        if step == 0 or not self.training:
            return
        momentum = cosine_momentum(step - 1, _info('max_iters', step),
                                   self.momentum, 0.)
        ema_update_(self.teacher, self._student_modules(), momentum,
                    copy_buffers=False)
