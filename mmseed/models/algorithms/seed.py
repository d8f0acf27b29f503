"""SEED: self-supervised distillation (Fang et al., ICLR 2021)."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.structures import DataSample
from torch import Tensor

from mmseed.models.memories import EmbeddingQueue
from mmseed.models.utils import split_views
from mmseed.registry import MODELS
from mmseed.errors import ConfigError
from mmseed.utils.config_check import TrainingSetting, config_value
from mmseed.utils.shapes import check_linear_input, output_width

__all__ = ['SEED']


@MODELS.register_module()
class SEED(BaseSelfSupervisor):
    """A student learns to reproduce a frozen teacher's similarity scores.

    Student (``backbone`` + ``neck``) and teacher see the same augmented view.
    The student's similarity distribution over the teacher's embedding of the
    image and a queue of ``K`` earlier teacher embeddings is trained to match
    the teacher's (``loss``, :class:`SEEDLoss`). After the loss, the batch's
    teacher embeddings (from every rank) enter the queue, first in first out.

    With ``num_patches > 0`` (the small-patch variant used with SwAV teachers
    in the paper), the data pipeline yields one global view then
    ``num_patches`` small crops per image; the small crops get the same loss
    against a second queue, which receives the teacher embedding of each
    image's first small crop, and the two losses are summed, as the official
    implementation (jacobswan1/SEED) does.

    ``extract_feat`` returns the student backbone's features, so feature-based
    evaluation (kNN, linear probe) sees the student.

    Args:
        backbone (dict): Student backbone config.
        neck (dict): Student projection head, e.g. ``MoCoV2Neck`` (Linear(d, d)-
            ReLU-Linear(d, 128) as in the paper).
        teacher (dict): Teacher config, e.g. :class:`FrozenTeacher`.
        loss (dict): Loss config. Defaults to ``SEEDLoss`` with its defaults.
        queue_len (int): Queue length ``K``. Defaults to 65536 (paper).
        feat_dim (int, optional): Embedding width of teacher and student.
            Defaults to the student neck's output width.
        num_patches (int): Small crops per image after the global view; 0
            disables the small-patch variant. Defaults to 0.
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation of the student.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 teacher: dict,
                 loss: dict = dict(type='SEEDLoss'),
                 queue_len: int = 65536,
                 feat_dim: Optional[int] = None,
                 num_patches: int = 0,
                 data_preprocessor: Optional[Union[dict, object]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.teacher = MODELS.build(teacher)
        self.loss_module = MODELS.build(loss)
        self.feat_dim = feat_dim or output_width(self.neck)
        self.num_patches = num_patches
        self.queue = EmbeddingQueue(queue_len, self.feat_dim)
        self.patch_queue = (EmbeddingQueue(queue_len, self.feat_dim)
                            if num_patches > 0 else None)

    @classmethod
    def check_config(cls, cfg: dict, key: str,
                     setting: TrainingSetting) -> None:
        """Check, before training, what a SEED config states.

        Student and teacher embeddings must have one width (only the widths
        the necks' ``out_channels`` state are known here; a teacher without
        a neck is checked at the first iteration), and each queue must take
        a whole global batch.

        Args:
            cfg (dict): The SEED model config.
            key (str): Its key, ``model``.
            setting (TrainingSetting): Batch and processes of the run.

        Raises:
            ConfigError: The first problem found.
        """
        widths = {
            f'student ({key}.neck.out_channels)':
            (cfg.get('neck') or {}).get('out_channels'),
            f'teacher ({key}.teacher.neck.out_channels)':
            ((cfg.get('teacher') or {}).get('neck') or {}).get('out_channels'),
        }
        widths = {k: v for k, v in widths.items() if isinstance(v, int)}
        feat_dim = config_value(cfg, 'feat_dim')
        stated = ', '.join(f'{k} {v}' for k, v in widths.items())
        if feat_dim is not None and any(v != feat_dim
                                        for v in widths.values()):
            raise ConfigError(
                'SEED compares student and teacher embeddings of one width, '
                f'but the config gives {stated} and {key}.feat_dim '
                f'{feat_dim}: set {key}.neck.out_channels, '
                f'{key}.teacher.neck.out_channels and {key}.feat_dim to one '
                "value (the teacher's is fixed by its checkpoint)")
        if len(set(widths.values())) > 1:
            raise ConfigError(
                'SEED compares student and teacher embeddings of one width, '
                f'but the config gives {stated}: set {key}.neck.out_channels '
                f'to {key}.teacher.neck.out_channels (the teacher\'s is '
                'fixed by its checkpoint)')
        queue_len = config_value(cfg, 'queue_len')
        if isinstance(queue_len, int):
            EmbeddingQueue.check_capacity(queue_len, setting.global_batch,
                                          f'{key}.queue_len',
                                          setting.global_batch_source)

    def student_embed(self, inputs: Tensor) -> Tensor:
        """Student embeddings (N, feat_dim) of a batch of images."""
        feats = self.backbone(inputs)
        check_linear_input(self.neck, feats[-1], 'model.neck')
        return self.neck(feats)[0]

    def _distill(self, inputs: Tensor, queue: EmbeddingQueue) -> tuple:
        """Loss of one batch of views against ``queue``; returns the loss and
        the L2-normalised teacher embeddings (what the queue stores)."""
        # Teacher first: its forward then runs before the student's
        # activations are alive (measured faster, docs/benchmarks.md).
        teacher = self.teacher(inputs)
        student = self.student_embed(inputs)
        if not student.shape[1] == teacher.shape[1] == self.feat_dim:
            raise ConfigError(
                f'the student outputs {student.shape[1]}-d embeddings and the '
                f'teacher {teacher.shape[1]}-d, but SEED needs both to be '
                f'model.feat_dim={self.feat_dim}-d: set '
                'model.neck.out_channels and model.feat_dim to the teacher\'s '
                'width (its neck.out_channels, or without a teacher neck its '
                'backbone\'s output channels)')
        # A copy: the enqueue after the loss writes the queue in place, and
        # backward still needs the values the loss saw.
        loss = self.loss_module(student, teacher, queue.embeddings.clone())
        return loss, F.normalize(teacher.float(), dim=1)

    def loss(self, inputs: List[Tensor],
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """Compute the SEED loss(es) and update the queue(s).

        Args:
            inputs (List[Tensor]): Views from the data pre-processor: one
                global view, then ``num_patches`` small crops (the view
                groups ``global`` and ``patch`` of the config's ``views``).
            data_samples (List[DataSample]): Unused (no labels).

        Returns:
            Dict[str, Tensor]: ``loss_seed`` and, with patches,
            ``loss_seed_patch``.
        """
        expected = 1 + self.num_patches
        if len(inputs) != expected:
            raise ConfigError(
                f'SEED with num_patches={self.num_patches} expects {expected} '
                f'view(s) per image from the pipeline, got {len(inputs)}: '
                'check MultiView num_views in the dataset pipeline')
        groups = [('global', 1)] + ([('patch', self.num_patches)]
                                    if self.num_patches else [])
        views = split_views(inputs, groups, key='model.num_patches')
        losses = {}
        losses['loss_seed'], teacher = self._distill(views['global'][0],
                                                     self.queue)
        if self.patch_queue is not None:
            patches = torch.cat(views['patch'], dim=0)
            losses['loss_seed_patch'], teacher_patch = self._distill(
                patches, self.patch_queue)
            # Rows are grouped by crop: the first N rows are every image's
            # first small crop.
            self.patch_queue.enqueue(teacher_patch[:inputs[0].shape[0]])
        self.queue.enqueue(teacher)
        return losses
