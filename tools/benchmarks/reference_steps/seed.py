"""SEED's plain reference step (``--method seed``): the config's SEED model,
with a teacher that has random weights, so no checkpoint is needed.

The interface is described in ``reference_steps/__init__.py``.
"""
from typing import Callable, ContextManager, Iterator, List

import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.losses.seed_loss import seed_loss

from bench_utils import random_teacher, type_name

__all__ = [
    'TITLE', 'MODEL_TYPES', 'NUM_VIEWS', 'TARGET', 'NOTES', 'model_config',
    'prepare', 'install_sections', 'PlainStep'
]

TITLE = 'SEED'
MODEL_TYPES = ('SEED', )
NUM_VIEWS = 1
TARGET = 'teacher'
NOTES = ['the teacher has random weights (no checkpoint)']


def model_config(cfg: Config) -> ConfigDict:
    """The config's SEED model, its teacher without a checkpoint."""
    model = ConfigDict(cfg.model.to_dict())
    kind = type_name(model)
    if kind not in MODEL_TYPES:
        raise ConfigError(f'--method seed needs a SEED config; model.type is '
                          f'{kind} (use --method moco)')
    if model.get('num_patches', 0):
        raise ConfigError('the plain reference loop does not implement '
                          'SEED\'s small-patch variant (num_patches > 0)')
    model.teacher.checkpoint = None
    return model


# Random teacher weights: no checkpoint is needed.
prepare = random_teacher


def install_sections(model: nn.Module, clock) -> None:
    """Time the teacher's forward and the queue update."""
    clock.wrap(model.teacher, 'forward', 'target')
    clock.wrap(model.queue, 'enqueue', 'queue')


class PlainStep:
    """One SEED training step in plain PyTorch, on a built model's modules.

    Teacher forward under ``inference_mode``; student forward,
    :func:`seed_loss` against the queue, backward, optimizer step; then the
    batch's normalised teacher embeddings replace the oldest queue entries.

    Args:
        model (nn.Module): The built (and initialised) SEED model.
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
        self.backbone, self.neck = model.backbone, model.neck
        self.teacher = model.teacher
        self.student_temp = model.loss_module.student_temp
        self.teacher_temp = model.loss_module.teacher_temp
        self.queue = model.queue.embeddings.detach().clone()
        self.ptr = int(model.queue.ptr)
        self.optimizer = make_optimizer(
            [*self.backbone.parameters(), *self.neck.parameters()])
        self.preprocess, self.clock = preprocess, clock
        self.autocast = autocast
        self.backbone.train()
        self.neck.train()

    def teacher_embed(self, x: Tensor) -> Tensor:
        """The teacher's own modules: backbone, then its neck (which takes
        the feature tuple and returns a tuple), or without one the pooled
        last feature."""
        feats = self.teacher.backbone(x)
        if self.teacher.neck is None:
            return F.adaptive_avg_pool2d(feats[-1], 1).flatten(1)
        return self.teacher.neck(feats)[0]

    def enqueue(self, embeddings: Tensor) -> None:
        count, size = embeddings.shape[0], self.queue.shape[0]
        if (self.ptr + count) <= size:
            self.queue[self.ptr:self.ptr + count] = embeddings
        else:
            index = (self.ptr + torch.arange(count)) % size
            self.queue[index.to(self.queue.device)] = embeddings
        self.ptr = (self.ptr + count) % size

    def __call__(self, batches: Iterator[List[Tensor]]) -> Tensor:
        section = self.clock.section
        with section('data'):
            x = self.preprocess(next(batches)[0])
        with section('target'):
            with torch.inference_mode(), self.autocast():
                teacher = self.teacher_embed(x)
            teacher = teacher.clone()  # an ordinary tensor, as mmseed's
        with section('student'):
            with self.autocast():
                student = self.neck(self.backbone(x))[0]
            loss = seed_loss(student, teacher, self.queue, self.student_temp,
                             self.teacher_temp)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        with section('queue'), torch.no_grad():
            self.enqueue(F.normalize(teacher.float(), dim=1))
        return loss.detach()
