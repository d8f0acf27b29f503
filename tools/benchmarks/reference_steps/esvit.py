"""EsViT's plain reference step (``--method esvit``): the config's student,
EMA teacher and heads over the config's multi-crop views (global and local
crops at their own sizes).

The interface is described in ``reference_steps/__init__.py``.
"""
from typing import Callable, ContextManager, Iterator, List, Tuple

import torch
from mmengine.config import Config, ConfigDict
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.losses import (dino_targets, dino_view_loss,
                                  region_matching_loss)
from mmseed.models.utils import ema_update_

from bench_utils import type_name

__all__ = [
    'TITLE', 'MODEL_TYPES', 'NUM_VIEWS', 'TARGET', 'NOTES', 'model_config',
    'view_sizes', 'prepare', 'install_sections', 'PlainStep'
]

TITLE = 'EsViT'
MODEL_TYPES = ('EsViT', )
NUM_VIEWS = 10  # 2 global + 8 local; view_sizes gives the config's
TARGET = 'teacher'
NOTES = ['views at the sizes of the config\'s MultiViewGroups spec; '
         'epoch 0: the heads\' last layers frozen, every gradient clipped '
         'per parameter (the configs\' hooks, both paths)']


def model_config(cfg: Config) -> ConfigDict:
    """The config's EsViT model."""
    model = ConfigDict(cfg.model.to_dict())
    if type_name(model) not in MODEL_TYPES:
        raise ConfigError(f'--method esvit needs an EsViT config; model.type '
                          f'is {type_name(model)}')
    return model


def view_sizes(cfg: Config) -> List[Tuple[int, int]]:
    """Each view's (H, W), in order, from the train pipeline's
    ``MultiViewGroups`` spec."""
    for step in cfg.train_dataloader.dataset.get('pipeline', []):
        if type_name(step).endswith('MultiViewGroups'):
            return [(g['size'], g['size']) for g in step['views']
                    for _ in range(g['num_views'])]
    raise ConfigError('--method esvit reads the view sizes from a '
                      'MultiViewGroups step of train_dataloader.dataset.'
                      'pipeline; the config has none')


def prepare(model: nn.Module) -> None:
    """Nothing to do: the teacher starts as the student's copy."""


def install_sections(model: nn.Module, clock) -> None:
    """Time the teacher's update and forwards."""
    clock.wrap(model, '_momentum_update', 'target')
    for module in model.teacher.values():
        clock.wrap(module, 'forward', 'target')


class PlainStep:
    """One EsViT step in plain PyTorch, on a built model's modules.

    EMA update of the teacher (from the second step), teacher forward of the
    global crops under ``inference_mode``; student forward of every crop
    (crops of one size batched), view and region losses, backward,
    per-parameter clipping, the last layers' gradients dropped (epoch 0),
    optimizer step; then the teacher heads' centres.

    Args:
        model (nn.Module): The built (and initialised) EsViT model.
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
        self.student = model._student_modules()
        self.optimizer = make_optimizer(
            [p for p in self.student.parameters() if p.requires_grad])
        self.frozen = [p for n, p in self.student.named_parameters()
                       if 'last_layer' in n]
        self.preprocess, self.clock = preprocess, clock
        self.autocast = autocast
        self.steps = 0
        self.student.train()
        model.teacher.train()

    def outputs(self, modules, crops: List[Tensor]) -> dict:
        found = dict(logits=[], region=[], tokens=[])
        start = 0
        while start < len(crops):
            end = start + 1
            while end < len(crops) and crops[end].shape == crops[start].shape:
                end += 1
            group = crops[start:end]
            feats = modules['backbone'](torch.cat(group))[-1]
            tokens = feats.flatten(2).transpose(1, 2)
            found['logits'] += modules['head'](tokens.mean(1)).chunk(
                len(group))
            if 'region_head' in modules:
                found['region'] += modules['region_head'](tokens).chunk(
                    len(group))
                found['tokens'] += tokens.chunk(len(group))
            start = end
        return found

    def __call__(self, batches: Iterator[List[Tensor]]) -> Tensor:
        model, section = self.model, self.clock.section
        with section('data'):
            crops = [self.preprocess(v) for v in next(batches)]
        teacher = model.teacher
        with section('target'):
            if self.steps:
                ema_update_(teacher, self.student, model.momentum,
                            copy_buffers=False)
            with torch.inference_mode(), self.autocast():
                t = self.outputs(teacher, crops[:model.num_global])
            t = {k: [x.clone() for x in v] for k, v in t.items()}
        with section('student'):
            with self.autocast():
                s = self.outputs(self.student, crops)
            temp = model.current_teacher_temp()
            targets = [dino_targets(x, teacher['head'].center, temp)
                       for x in t['logits']]
            loss = model.view_weight * dino_view_loss(s['logits'], targets,
                                                      model.student_temp)
            if 'region_head' in teacher:
                center = teacher['region_head'].center
                loss = loss + model.region_weight * region_matching_loss(
                    s['region'], [dino_targets(x, center, temp)
                                  for x in t['region']],
                    s['tokens'], t['tokens'], model.student_temp)
            loss.backward()
            with torch.no_grad():
                for param in self.frozen:
                    param.grad = None
                for param in self.student.parameters():
                    if param.grad is not None:
                        coef = 3.0 / (param.grad.norm(2) + 1e-6)
                        param.grad.mul_(coef.clamp(max=1.))
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            teacher['head'].update_center(torch.cat(t['logits']))
            if 'region_head' in teacher:
                teacher['region_head'].update_center(torch.cat(t['region']))
        self.steps += 1
        return loss.detach()
