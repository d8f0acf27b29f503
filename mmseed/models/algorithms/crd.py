"""CRD: contrastive representation distillation (Tian, Krishnan, Isola,
ICLR 2020), supervised or label-free."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.structures import DataSample
from torch import Tensor

from mmseed.errors import ConfigError
from mmseed.models.losses import (contrast_scores, crd_nce_loss, fp32,
                                  kl_divergence)
from mmseed.models.memories import ContrastBanks
from mmseed.registry import MODELS
from mmseed.utils.config_check import TrainingSetting, config_value
from mmseed.utils.shapes import check_linear_input

__all__ = ['CRD']


@fp32
def _kd_loss(logits: Tensor, teacher_logits: Tensor, temperature: float):
    """Hinton KD as RepDistiller's ``DistillKL``: ``KL(P_T || P_S)`` at
    temperature T, summed over classes, averaged over the batch, x T^2."""
    return kl_divergence(logits, teacher_logits.detach(), temperature,
                         temperature) * temperature**2


@MODELS.register_module()
class CRD(ImageClassifier):
    """A student trained to tell its teacher's embedding of an image from
    those of other images.

    Student (``backbone``, ``neck``: the pooled penultimate feature) and
    frozen ``teacher`` see the same augmented image. Each feature goes
    through its own trainable embedding (``student_embed``,
    ``teacher_embed``: Linear(d, 128), then L2-normalised here). Against the
    per-image memory banks (:class:`~mmseed.models.memories.ContrastBanks`,
    indexed by ``data_sample.sample_idx``) the teacher embedding is
    contrasted with the student bank's row of the image and ``K`` negative
    rows, and the student embedding likewise with the teacher bank; the NCE
    losses of the two directions are summed (:func:`crd_nce_loss`), then the
    batch's rows are updated. The total, as RepDistiller's
    ``train_student.py`` (``-r``, ``-a``, ``-b``), is

        ``ce_weight * CE + kd_weight * KD(kd_temperature) + crd_weight * CRD``

    each term logged after its weight. ``head=None`` is the label-free mode:
    no classifier, CRD alone, uniform negatives; it distils a
    self-supervised teacher and is evaluated by kNN or a linear probe on
    the student's pooled feature, like SEED's students.

    The banks are sized to the training set by ``MemoryBankHook`` (in
    ``custom_hooks`` of the CRD configs).

    Args:
        backbone (dict): Student backbone.
        neck (dict): Student neck, e.g. ``GlobalAveragePooling``.
        head (dict, optional): Student classifier; None: label-free.
        teacher (dict): A :class:`~mmseed.models.teachers.FrozenTeacher`;
            it needs a ``head`` when ``kd_weight > 0``.
        student_embed (dict): Embedding of the student feature, one Linear
            layer: ``dict(type='LinearNeck', in_channels=d,
            out_channels=128, norm_cfg=None)`` (``LinearNeck`` adds a
            BatchNorm by default; one is refused).
        teacher_embed (dict): The same for the teacher feature.
        num_negatives (int): K. Defaults to 16384 (``--nce_k``).
        temperature (float): T of the scores. Defaults to 0.07
            (``--nce_t``).
        momentum (float): Bank update momentum. Defaults to 0.5
            (``--nce_m``).
        negatives (str): ``'class'`` (other classes only, the reference's
            ``--mode exact``) or ``'uniform'``. Defaults to ``'class'``.
        num_samples (int, optional): Bank rows; None: the training set's
            size, set by ``MemoryBankHook``.
        ce_weight (float, optional): gamma (``-r``) of the cross-entropy,
            computed here (``head.loss`` is not used). Defaults to 1 with a
            classifier, 0 without.
        kd_weight (float): alpha (``-a``). Defaults to 0.
        crd_weight (float): beta (``-b``). Defaults to 0.8 (the
            reference's CRD runs).
        kd_temperature (float): T of KD. Defaults to 4 (``--kd_T``).
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation of the student.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 teacher: dict,
                 student_embed: dict,
                 teacher_embed: dict,
                 head: Optional[dict] = None,
                 num_negatives: int = 16384,
                 temperature: float = 0.07,
                 momentum: float = 0.5,
                 negatives: str = 'class',
                 num_samples: Optional[int] = None,
                 ce_weight: Optional[float] = None,
                 kd_weight: float = 0.,
                 crd_weight: float = 0.8,
                 kd_temperature: float = 4.,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        self.check_config(
            dict(head=head, teacher=teacher, negatives=negatives,
                 ce_weight=ce_weight, kd_weight=kd_weight,
                 crd_weight=crd_weight), 'model', TrainingSetting(None, 1))
        if ce_weight is None:
            ce_weight = 0. if head is None else 1.
        if isinstance(data_preprocessor, dict):
            # Built here: ImageClassifier would add ClsDataPreprocessor's
            # batch_augments, which the label-free mode's
            # SelfSupDataPreprocessor does not take.
            data_preprocessor = MODELS.build(
                dict(dict(type='ClsDataPreprocessor'), **data_preprocessor))
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.teacher = MODELS.build(teacher)
        self.student_embed = MODELS.build(student_embed)
        self.teacher_embed = MODELS.build(teacher_embed)
        dims = set()
        for key in ('student_embed', 'teacher_embed'):
            layers = [m for m in getattr(self, key).modules()
                      if any(True for _ in m.parameters(recurse=False))]
            if len(layers) != 1 or not isinstance(layers[0], torch.nn.Linear):
                raise ConfigError(
                    f'model.{key} must be one Linear layer (CRD embeds with '
                    'Linear then L2), but it has '
                    f'{[type(m).__name__ for m in layers]}: use '
                    "dict(type='LinearNeck', ..., norm_cfg=None)")
            dims.add(layers[0].out_features)
        if len(dims) != 1:
            raise ConfigError(
                'model.student_embed and model.teacher_embed must be '
                "LinearNeck's of one out_channels (the banks' width), got "
                f'{sorted(map(str, dims))}')
        self.banks = ContrastBanks(dims.pop(), num_negatives, momentum,
                                   negatives, num_samples)
        self.temperature = temperature
        self.ce_weight = ce_weight
        self.kd_weight = kd_weight
        self.crd_weight = crd_weight
        self.kd_temperature = kd_temperature

    @classmethod
    def check_config(cls, cfg: dict, key: str,
                     setting: TrainingSetting) -> None:
        """Check the weights against the mode, before anything is built.

        Args:
            cfg (dict): The CRD model config.
            key (str): Its key, ``model``.
            setting (TrainingSetting): Unused.

        Raises:
            ConfigError: The first problem found.
        """
        weights = {name: config_value(cfg, name)
                   for name in ('ce_weight', 'kd_weight', 'crd_weight')}
        if any(isinstance(w, (int, float)) and w < 0
               for w in weights.values()):
            raise ConfigError(f'{key}: loss weights must be >= 0, got '
                              f'{weights}')
        if cfg.get('head') is None:  # label-free
            used = [name for name in ('ce_weight', 'kd_weight')
                    if isinstance(weights[name], (int, float))
                    and weights[name] > 0]
            if used:
                raise ConfigError(
                    f'{key}.head=None (label-free CRD) has no student logits '
                    f'for {", ".join(key + "." + u for u in used)}: set them '
                    f'to 0, or give {key}.head a classifier')
            if config_value(cfg, 'negatives') != 'uniform':
                raise ConfigError(
                    f'{key}.head=None (label-free CRD) reads no labels, so '
                    f"class-aware negatives cannot be drawn: set "
                    f"{key}.negatives='uniform'")
        kd = config_value(cfg, 'kd_weight')
        if isinstance(kd, (int, float)) and kd > 0 and not (
                cfg.get('teacher') or {}).get('head'):
            raise ConfigError(
                f'{key}.kd_weight={kd} distils the teacher\'s logits, but '
                f'{key}.teacher has no head: give it its classifier head '
                f'(e.g. dict(type=\'LinearClsHead\', ...)) or set '
                f'{key}.kd_weight=0')

    @staticmethod
    def _sample_indices(data_samples: Sequence[DataSample]) -> Tensor:
        if not data_samples or any('sample_idx' not in s
                                   for s in data_samples):
            raise ConfigError(
                'CRD reads each image\'s dataset index (sample_idx) for its '
                'memory banks, but the batch has none: keep \'sample_idx\' '
                "in PackInputs' meta_keys (its default) in "
                'train_dataloader.dataset.pipeline')
        return torch.as_tensor([int(s.sample_idx) for s in data_samples])

    def loss(self, inputs: Union[Tensor, List[Tensor]],
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """The weighted CE, KD and CRD losses of a batch; updates the banks.

        Args:
            inputs (Tensor | List[Tensor]): (B, C, H, W) images, or a list
                holding one view (a self-supervised data pre-processor's).
            data_samples (List[DataSample]): ``sample_idx`` of each image
                and, with a classifier, ``gt_label``.

        Returns:
            Dict[str, Tensor]: ``loss_crd`` and, where weighted above 0,
            ``loss_ce`` and ``loss_kd``.
        """
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ConfigError(
                    f'CRD shows teacher and student one view per image, got '
                    f'{len(inputs)}: use MultiView num_views=1 (or a plain '
                    'classification pipeline)')
            inputs = inputs[0]
        index = self._sample_indices(data_samples)
        wants_logits = self.kd_weight > 0
        teacher = self.teacher(inputs, ('feature', 'logits')
                               if wants_logits else ('feature', ))
        feature = self.extract_feat(inputs)
        feature = feature[-1] if isinstance(feature, tuple) else feature
        losses = {}
        if self.with_head and (self.ce_weight > 0 or wants_logits):
            logits = self.head((feature, ))
            if self.ce_weight > 0:
                labels = torch.cat([s.gt_label for s in data_samples]).to(
                    logits.device)
                losses['loss_ce'] = self.ce_weight * F.cross_entropy(
                    logits.float(), labels)
            if wants_logits:
                losses['loss_kd'] = self.kd_weight * _kd_loss(
                    logits, teacher['logits'], self.kd_temperature)
        check_linear_input(self.student_embed, feature, 'model.student_embed')
        check_linear_input(self.teacher_embed, teacher['feature'],
                           'model.teacher_embed')
        student = F.normalize(self.student_embed(feature)[0].float(), dim=1)
        target = F.normalize(self.teacher_embed(teacher['feature'])[0]
                             .float(), dim=1)
        rows = self.banks.sample(index)
        student_rows, teacher_rows = self.banks.read(rows)
        # Student anchor against the teacher bank, teacher anchor against
        # the student bank (RepDistiller crd/memory.py: out_v1, out_v2).
        from_student, from_teacher = self.banks.normalise(
            contrast_scores(student, teacher_rows, self.temperature),
            contrast_scores(target, student_rows, self.temperature))
        n = self.banks.num_samples
        losses['loss_crd'] = self.crd_weight * (
            crd_nce_loss(from_student, n) + crd_nce_loss(from_teacher, n))
        self.banks.update(index, student, target)
        return losses
