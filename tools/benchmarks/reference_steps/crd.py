"""CRD's plain reference step (``--method crd``): the config's student,
frozen teacher (random weights, no checkpoint needed), the two embeddings
and the two memory banks, sized as the real training set.

The interface is described in ``reference_steps/__init__.py``.
"""
from typing import Callable, ContextManager, Iterator, List

import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.losses import contrast_scores, crd_nce_loss, kl_divergence

from bench_utils import random_teacher, type_name

__all__ = [
    'TITLE', 'MODEL_TYPES', 'NUM_VIEWS', 'TARGET', 'NOTES', 'model_config',
    'dataset_size', 'prepare', 'install_sections', 'PlainStep'
]

TITLE = 'CRD'
MODEL_TYPES = ('CRD', )
NUM_VIEWS = 0  # one image per sample (a list of one view is taken too)
TARGET = 'teacher'
# Training-set sizes the banks get: CIFAR-10/100 and ImageNet-1k.
TRAIN_IMAGES = {10: 50_000, 100: 50_000, 1000: 1_281_167}
NOTES = ['the teacher has random weights (no checkpoint); the banks have '
         'one row per image of the real training set (50,000 for CIFAR, '
         '1,281,167 for ImageNet), so the peak memory includes them']


def model_config(cfg: Config) -> ConfigDict:
    """The config's CRD model, its teacher without a checkpoint."""
    model = ConfigDict(cfg.model.to_dict())
    kind = type_name(model)
    if kind not in MODEL_TYPES:
        raise ConfigError(f'--method crd needs a CRD config; model.type is '
                          f'{kind}')
    model.teacher.checkpoint = None
    return model


def dataset_size(cfg: Config) -> int:
    """Images of the config's training set, by its number of classes."""
    classes = (cfg.model.get('data_preprocessor') or {}).get('num_classes')
    return TRAIN_IMAGES.get(classes, 50_000)


# Random teacher weights: no checkpoint is needed.
prepare = random_teacher


def install_sections(model: nn.Module, clock) -> None:
    """Time the teacher's forward and the banks' update."""
    clock.wrap(model.teacher, 'forward', 'target')
    clock.wrap(model.banks, 'update', 'queue')


class PlainStep:
    """One CRD step in plain PyTorch, on a built model's modules.

    Teacher feature (and logits for KD) under ``inference_mode``; student
    forward (backbone, neck, head); CE, KD; both embeddings; K negatives
    per image drawn as the banks draw them; the two NCE directions against
    copies of the banks; backward; optimizer step; then the momentum update
    of the batch's rows. Image ``i`` of step ``s`` has index ``s * B + i``
    (modulo the bank size) and label ``index % classes``, as the tool's
    synthetic dataset gives the mmseed path.

    Args:
        model (nn.Module): The built (and initialised) CRD model.
        preprocess (Callable): uint8 batch to normalised device tensor.
        make_optimizer (Callable): The config's optimizer over parameters.
        clock (SectionClock): Times the sections.
        autocast (Callable): The forwards' precision context.
    """

    def __init__(self, model: nn.Module,
                 preprocess: Callable[[Tensor], Tensor],
                 make_optimizer: Callable[[List[nn.Parameter]],
                                          torch.optim.Optimizer],
                 clock, autocast: Callable[[], ContextManager]) -> None:
        self.model = model
        banks = model.banks
        self.student_bank = banks.student.detach().clone()
        self.teacher_bank = banks.teacher.detach().clone()
        self.z = banks.normalizers.detach().clone()
        self.k, self.m = banks.num_negatives, banks.momentum
        self.class_aware = banks.class_aware
        n = self.student_bank.shape[0]
        device = self.student_bank.device
        classes = model.data_preprocessor.num_classes if hasattr(
            model.data_preprocessor, 'num_classes') else 10
        self.labels = torch.arange(n, device=device) % (classes or 10)
        count = torch.bincount(self.labels)
        self.by_class = torch.argsort(self.labels, stable=True)
        self.start = (torch.cumsum(count, 0) - count)[self.labels]
        self.count = count[self.labels]
        self.step = 0
        student = [model.backbone, model.neck, model.head,
                   model.student_embed, model.teacher_embed]
        self.student = [m for m in student if m is not None]
        self.optimizer = make_optimizer(
            [p for m in self.student for p in m.parameters()])
        self.preprocess, self.clock = preprocess, clock
        self.autocast = autocast
        for module in self.student:
            module.train()

    def negatives(self, index: Tensor) -> Tensor:
        n = self.student_bank.shape[0]
        if self.class_aware:
            start, count = self.start[index, None], self.count[index, None]
            pool = n - count
        else:
            start, count, pool = index[:, None], 1, n - 1
        draw = torch.rand(len(index), self.k, dtype=torch.float64,
                          device=index.device)
        draw = (draw * pool).long().clamp_(max=pool - 1)
        draw = draw + (draw >= start) * count
        return self.by_class[draw] if self.class_aware else draw

    def __call__(self, batches: Iterator[List[Tensor]]) -> Tensor:
        model, section = self.model, self.clock.section
        with section('data'):
            x = self.preprocess(next(batches)[0])
            n = self.student_bank.shape[0]
            index = (self.step * len(x) +
                     torch.arange(len(x), device=x.device)) % n
            self.step += 1
        teacher = model.teacher
        with section('target'):
            with torch.inference_mode(), self.autocast():
                feats = teacher.backbone(x)
                t_feat = F.adaptive_avg_pool2d(feats[-1], 1).flatten(1)
                t_logits = (teacher.head((t_feat, ))
                            if model.kd_weight > 0 else None)
            t_feat = t_feat.clone()  # ordinary tensors, as mmseed's
            t_logits = None if t_logits is None else t_logits.clone()
        with section('student'):
            with self.autocast():
                s_feat = model.neck(model.backbone(x))[-1]
                logits = (model.head((s_feat, )) if model.head is not None
                          else None)
                s = model.student_embed(s_feat)[0]
                t = model.teacher_embed(t_feat)[0]
            loss = 0.
            if model.ce_weight > 0:
                loss = model.ce_weight * F.cross_entropy(
                    logits.float(), self.labels[index])
            if t_logits is not None:
                temp = model.kd_temperature
                loss = loss + model.kd_weight * temp**2 * kl_divergence(
                    logits.float(), t_logits.float(), temp, temp)
            s = F.normalize(s.float(), dim=1)
            t = F.normalize(t.float(), dim=1)
            rows = torch.cat([index[:, None], self.negatives(index)], 1)
            flat = rows.flatten()
            shape = (*rows.shape, self.student_bank.shape[1])
            p_s = contrast_scores(s, self.teacher_bank[flat].view(shape),
                                  model.temperature)
            p_t = contrast_scores(t, self.student_bank[flat].view(shape),
                                  model.temperature)
            if (self.z < 0).any():
                self.z = torch.stack([p_s.detach().mean(),
                                      p_t.detach().mean()]) * n
            loss = loss + model.crd_weight * (crd_nce_loss(p_s / self.z[0], n)
                                              + crd_nce_loss(p_t / self.z[1],
                                                             n))
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        with section('queue'), torch.no_grad():
            for bank, new in ((self.student_bank, s), (self.teacher_bank, t)):
                mixed = bank[index] * self.m + new.detach() * (1 - self.m)
                bank[index] = F.normalize(mixed, dim=1)
        return loss.detach()
