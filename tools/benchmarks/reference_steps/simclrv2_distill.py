"""SimCLRv2's distillation step, plain (``--method simclrv2_distill``): the
config's ``SimCLRv2Distiller``, its teacher with random weights, so no
checkpoint is needed.

The interface is described in ``reference_steps/__init__.py``.
"""
from typing import Callable, ContextManager, Iterator, List

import torch
from mmengine.config import Config, ConfigDict
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.losses import soft_label_distillation

from bench_utils import random_teacher, type_name

__all__ = [
    'TITLE', 'MODEL_TYPES', 'NUM_VIEWS', 'TARGET', 'NOTES', 'model_config',
    'prepare', 'install_sections', 'PlainStep'
]

TITLE = 'SimCLRv2 distillation'
MODEL_TYPES = ('SimCLRv2Distiller', )
NUM_VIEWS = 0  # one image per sample, as a classifier's pipeline gives
TARGET = 'teacher'
NOTES = ['the teacher has random weights (no checkpoint); alpha = 1 '
         '(unlabelled images, no cross-entropy term)']


def model_config(cfg: Config) -> ConfigDict:
    """The config's distiller, its teacher without a checkpoint."""
    model = ConfigDict(cfg.model.to_dict())
    kind = type_name(model)
    if kind not in MODEL_TYPES:
        raise ConfigError(f'--method simclrv2_distill needs a '
                          f'SimCLRv2Distiller config; model.type is {kind}')
    if model.get('alpha', 1.) != 1:
        raise ConfigError('the plain reference loop implements alpha = 1 '
                          '(no labelled term); set model.alpha=1')
    model.teacher.checkpoint = None
    return model


# Random teacher weights: no checkpoint is needed.
prepare = random_teacher


def install_sections(model: nn.Module, clock) -> None:
    """Time the teacher's forward."""
    clock.wrap(model.teacher, 'forward', 'target')


class PlainStep:
    """One distillation step in plain PyTorch, on a built model's modules.

    Teacher logits under ``inference_mode`` (backbone, its neck if the head
    classifies the neck's output, head); student logits (backbone, neck,
    head); :func:`soft_label_distillation`; backward; optimizer step.

    Args:
        model (nn.Module): The built (and initialised) distiller.
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
        self.backbone, self.neck, self.head = (model.backbone, model.neck,
                                               model.head)
        self.teacher = model.teacher
        self.temperature, self.t_squared = model.temperature, model.t_squared
        student = [self.backbone, self.neck, self.head]
        self.optimizer = make_optimizer(
            [p for m in student if m is not None for p in m.parameters()])
        self.preprocess, self.clock = preprocess, clock
        self.autocast = autocast
        for module in student:
            if module is not None:
                module.train()

    def teacher_logits(self, x: Tensor) -> Tensor:
        teacher = self.teacher
        feats = teacher.backbone(x)
        if teacher.head_input == 'embedding':
            return teacher.head(teacher.neck(feats))
        pooled = torch.nn.functional.adaptive_avg_pool2d(feats[-1], 1)
        return teacher.head((pooled.flatten(1), ))

    def __call__(self, batches: Iterator[List[Tensor]]) -> Tensor:
        section = self.clock.section
        with section('data'):
            x = self.preprocess(next(batches)[0])
        with section('target'):
            with torch.inference_mode(), self.autocast():
                teacher = self.teacher_logits(x)
            teacher = teacher.clone()  # an ordinary tensor, as mmseed's
        with section('student'):
            with self.autocast():
                feats = self.backbone(x)
                if self.neck is not None:
                    feats = self.neck(feats)
                logits = self.head(feats)
            loss = soft_label_distillation(logits, teacher, self.temperature,
                                           self.t_squared)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()
