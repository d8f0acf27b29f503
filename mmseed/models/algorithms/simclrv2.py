"""SimCLRv2 (Chen et al., "Big Self-Supervised Models are Strong
Semi-Supervised Learners", NeurIPS 2020): pretraining with an optional
memory of negatives, and distillation of a fine-tuned classifier on
unlabelled images.

The three steps and where they live:

1. Pretraining: :class:`SimCLRv2`, SimCLR with the 3-layer head
   (:class:`~mmseed.models.necks.SimCLRv2Neck`), trained with LARS
   (``mmseed.LARS(trust_norm='update')``).
2. Fine-tuning on a label subset: mmpretrain's ``ImageClassifier`` whose neck
   is the head's first layer(s) (``SimCLRv2Neck(use_layers=1)``), loaded
   from the pretraining checkpoint (configs/simclrv2/*_ft-*).
3. Distillation: :class:`SimCLRv2Distiller`.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.losses import nt_xent, soft_label_distillation
from mmseed.models.memories import EmbeddingQueue
from mmseed.models.utils import ema_update_
from mmseed.registry import MODELS
from mmseed.utils.config_check import TrainingSetting, config_value
from .simclr import SimCLR

__all__ = ['SimCLRv2', 'SimCLRv2Distiller']


@MODELS.register_module()
class SimCLRv2(SimCLR):
    """SimCLR with SimCLRv2's defaults and its optional memory of negatives.

    The defaults follow google-research/simclr (``tf2/``): NT-Xent at
    temperature 0.1 over both views of every rank's batch, both views as one
    batch through the network, the loss summed over the two views
    (``loss_weight=2``, see :class:`SimCLR`). The 3-layer head is the
    ``neck`` (:class:`~mmseed.models.necks.SimCLRv2Neck`).

    **Memory.** The paper (Sec. 2) adds "the memory mechanism from MoCo": a
    memory network, a moving average of the weights (momentum 0.999), whose
    outputs are buffered as negatives (65,536), for about +1% linear and 1%
    fine-tune accuracy. The official code does not include it, so this one
    is a reading of the paper: with ``memory_size > 0``, a momentum copy of
    backbone and head embeds both views; every anchor's NT-Xent gets the
    memory's ``memory_size`` embeddings as further negatives (positives stay
    the online network's other view); then the batch's momentum embeddings
    of both views (2N per rank, gathered from every rank) replace the oldest.
    The momentum copy starts from the online weights at the first step.

    Args:
        backbone (dict): Backbone config.
        neck (dict): Projection head, e.g. ``SimCLRv2Neck``.
        temperature (float): Defaults to 0.1 (ImageNet; 0.5 on CIFAR-10 in
            the official README).
        loss_weight (float): Defaults to 2 (the official sum over views).
        views_in_one_batch (bool): Defaults to True (official).
        memory_size (int): Negatives in the memory; 0 (default) for none.
            The paper uses 65,536.
        memory_momentum (float): Weight of the online weights in the
            momentum update, mmengine's convention: the paper's 0.999 is
            0.001 (default).
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 temperature: float = 0.1,
                 loss_weight: float = 2.,
                 views_in_one_batch: bool = True,
                 memory_size: int = 0,
                 memory_momentum: float = 0.001,
                 data_preprocessor=None,
                 init_cfg=None) -> None:
        super().__init__(backbone, neck, temperature, loss_weight,
                         views_in_one_batch, data_preprocessor, init_cfg)
        if memory_size < 0 or not 0 <= memory_momentum <= 1:
            raise ConfigError(
                f'SimCLRv2 needs model.memory_size >= 0 and '
                f'model.memory_momentum in [0, 1], got {memory_size} and '
                f'{memory_momentum}')
        self.memory_momentum = memory_momentum
        self.memory = None
        if memory_size:
            self.momentum_encoder = nn.ModuleDict(dict(
                backbone=MODELS.build(backbone), neck=MODELS.build(neck)))
            self.momentum_encoder.requires_grad_(False)
            self.register_buffer('momentum_started', torch.tensor(False))
            width = getattr(self.neck, 'out_channels', None)
            if not isinstance(width, int):
                raise ConfigError('SimCLRv2 with a memory needs a neck with '
                                  'out_channels (e.g. SimCLRv2Neck)')
            self.memory = EmbeddingQueue(memory_size, width)

    @classmethod
    def check_config(cls, cfg: dict, key: str,
                     setting: TrainingSetting) -> None:
        """The memory must take the 2N momentum embeddings of a global
        batch."""
        size = config_value(cfg, 'memory_size')
        if isinstance(size, int) and size > 0 and setting.global_batch:
            EmbeddingQueue.check_capacity(
                size, 2 * setting.global_batch, f'{key}.memory_size',
                f'2 views x {setting.global_batch_source}')

    @torch.no_grad()
    def _momentum_embed(self, inputs: List[Tensor]) -> Tensor:
        """Update the momentum copy, then embed both views with it."""
        started = bool(self.momentum_started)
        momentum = self.memory_momentum if started else 1.
        for name in ('backbone', 'neck'):
            ema_update_(self.momentum_encoder[name], getattr(self, name),
                        momentum)
        self.momentum_started.fill_(True)
        encoder = self.momentum_encoder
        return encoder['neck'](encoder['backbone'](torch.cat(inputs)))[0]

    def loss(self, inputs: List[Tensor],
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """NT-Xent of the two views, with the memory's negatives if any.

        Args:
            inputs (List[Tensor]): The two views.
            data_samples (List[DataSample]): Unused (no labels).

        Returns:
            Dict[str, Tensor]: ``loss``.
        """
        if self.memory is None:
            return super().loss(inputs, data_samples)
        z1, z2 = self.embed_views(inputs)
        keys = self._momentum_embed(inputs)
        # A copy: the enqueue below writes the memory in place, and backward
        # still needs the values the loss saw.
        loss = nt_xent(z1, z2, self.temperature,
                       self.memory.embeddings.clone())
        self.memory.enqueue(F.normalize(keys.float(), dim=1))
        return dict(loss=self.loss_weight * loss)


@MODELS.register_module()
class SimCLRv2Distiller(ImageClassifier):
    """A classifier trained on a frozen classifier's soft labels (SimCLRv2's
    third step).

    The student is an ``ImageClassifier`` (``backbone``, ``neck``, ``head``:
    its checkpoint keys are a classifier's, so mmpretrain's tools and
    mmseed's evaluation read it as one); ``teacher`` is a
    :class:`~mmseed.models.teachers.FrozenTeacher` with a head, typically the
    fine-tuned network (``head_input='embedding'`` when its neck is the
    pretraining head's first layer). The loss (paper eq. 3) is

        ``alpha * distill + (1 - alpha) * ce``

    with ``distill`` = :func:`soft_label_distillation` at ``temperature``
    over the batch, and ``ce`` the cross-entropy of the labelled images in
    the batch (label >= 0; -1 marks an unlabelled image) summed and divided
    by the batch size, so that both terms estimate the paper's sums over
    the whole data. The paper uses ``alpha=1`` (unlabelled images only) and
    T = 1; ``alpha < 1`` needs a training set in which the labelled subset
    keeps its labels and every other image has label -1, e.g. a
    ``ConcatDataset`` of the subset's annotation file and one that lists
    the other images with label -1 (no tool writes that file yet).
    Validation and testing use the student.

    Args:
        backbone, neck, head (dict): The student classifier.
        teacher (dict): The teacher, a ``FrozenTeacher`` with a ``head``.
        temperature (float): T of both softmaxes. Defaults to 1 (paper).
        alpha (float): Weight of the distillation term, in [0, 1].
            Defaults to 1 (paper).
        t_squared (bool): Multiply the distillation term by T^2 (the
            official colab). Defaults to False.
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation of the student.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict],
                 head: dict,
                 teacher: dict,
                 temperature: float = 1.,
                 alpha: float = 1.,
                 t_squared: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not 0 <= alpha <= 1 or temperature <= 0:
            raise ConfigError(
                f'SimCLRv2Distiller needs model.alpha in [0, 1] and '
                f'model.temperature > 0, got {alpha} and {temperature}')
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.teacher = MODELS.build(teacher)
        self.temperature = temperature
        self.alpha = alpha
        self.t_squared = t_squared

    @classmethod
    def check_config(cls, cfg: dict, key: str,
                     setting: TrainingSetting) -> None:
        """Student and teacher must classify into the same classes."""
        student = (cfg.get('head') or {}).get('num_classes')
        teacher = ((cfg.get('teacher') or {}).get('head')
                   or {}).get('num_classes')
        if teacher is None:
            raise ConfigError(
                f'{key}.teacher needs a classifier head whose logits the '
                f'student learns: set {key}.teacher.head (e.g. '
                "dict(type='LinearClsHead', num_classes=..., in_channels=...))")
        if isinstance(student, int) and isinstance(teacher, int) \
                and student != teacher:
            raise ConfigError(
                f'the student classifies into {key}.head.num_classes='
                f'{student} classes but the teacher into '
                f'{key}.teacher.head.num_classes={teacher}: distillation '
                'matches class by class, so give both the classes of the '
                "teacher's checkpoint")

    def loss(self, inputs: Tensor,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """Distillation (and cross-entropy) losses of a batch.

        Args:
            inputs (Tensor): (N, C, H, W) images.
            data_samples (List[DataSample]): Their labels, -1 where
                unlabelled; only read when ``alpha < 1``.

        Returns:
            Dict[str, Tensor]: ``loss_distill`` and, when ``alpha < 1``,
            ``loss_ce``.
        """
        teacher = self.teacher(inputs, 'logits')
        logits = self.head(self.extract_feat(inputs))
        if logits.shape != teacher.shape:
            raise ConfigError(
                f'student logits {tuple(logits.shape)} and teacher logits '
                f'{tuple(teacher.shape)} differ: give model.head and '
                'model.teacher.head the same num_classes')
        losses = dict(loss_distill=self.alpha * soft_label_distillation(
            logits, teacher, self.temperature, self.t_squared))
        if self.alpha < 1:
            labels = torch.cat([s.gt_label for s in data_samples]).to(
                logits.device)
            ce = F.cross_entropy(logits.float(), labels, ignore_index=-1,
                                 reduction='sum') / len(labels)
            losses['loss_ce'] = (1 - self.alpha) * ce
        return losses
