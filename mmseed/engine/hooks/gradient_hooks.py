"""Edits of the gradients just before the optimizer step: per-parameter
clipping and freezing parameters for the first epochs (DINO, Caron et al.,
2021, facebookresearch/dino ``utils.clip_gradients`` and
``cancel_gradients_last_layer``).

Both act through ``torch.optim.Optimizer.register_step_pre_hook``, so they
run whatever calls the step (mmengine's ``OptimWrapper`` with or without
DDP and AMP: ``GradScaler`` unscales the gradients before the step).
"""
from typing import Dict

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseed.errors import ConfigError
from mmseed.registry import HOOKS

__all__ = ['FreezeParametersHook', 'PerParameterGradClipHook']


def _model(runner):
    return runner.model.module if is_model_wrapper(runner.model) \
        else runner.model


def _optimizers(runner):
    wrapper = runner.optim_wrapper
    wrappers = wrapper.values() if hasattr(wrapper, 'values') else [wrapper]
    return [w.optimizer for w in wrappers]


@HOOKS.register_module()
class PerParameterGradClipHook(Hook):
    """Scale each parameter's gradient to norm at most ``max_norm`` on its
    own (not mmengine's ``clip_grad``, one norm over all parameters).

    Args:
        max_norm (float): Defaults to 3.0 (DINO, EsViT ``--clip_grad``).
    """

    priority = 'LOW'

    def __init__(self, max_norm: float = 3.0) -> None:
        if max_norm <= 0:
            raise ConfigError(f'PerParameterGradClipHook needs max_norm > 0, '
                              f'got {max_norm}')
        self.max_norm = max_norm

    def before_train(self, runner) -> None:
        for optimizer in _optimizers(runner):
            optimizer.register_step_pre_hook(self._clip)

    @torch.no_grad()
    def _clip(self, optimizer, args, kwargs) -> None:
        for group in optimizer.param_groups:
            for param in group['params']:
                if param.grad is not None:
                    coef = self.max_norm / (param.grad.norm(2) + 1e-6)
                    param.grad.mul_(coef.clamp(max=1.))


@HOOKS.register_module()
class FreezeParametersHook(Hook):
    """Give the parameters whose name contains ``name`` no update during the
    first ``epochs`` epochs: their gradients are dropped before the step, so
    the optimizer skips them (no weight decay, no moment update).

    Args:
        name (str): Part of the parameter names. Defaults to
            ``'last_layer'`` (the DINO heads' last layers).
        epochs (int): Defaults to 1 (DINO, EsViT ``--freeze_last_layer``).
    """

    priority = 'LOW'

    def __init__(self, name: str = 'last_layer', epochs: int = 1) -> None:
        self.name, self.epochs = name, epochs
        self.frozen: Dict[int, str] = {}
        self._runner = None

    def before_train(self, runner) -> None:
        self.frozen = {id(p): n for n, p in _model(runner).named_parameters()
                       if self.name in n and p.requires_grad}
        if not self.frozen:
            raise ConfigError(
                f'FreezeParametersHook(name={self.name!r}) matches no trained '
                'parameter of the model: give part of a parameter name')
        self._runner = runner
        for optimizer in _optimizers(runner):
            optimizer.register_step_pre_hook(self._drop)

    def _drop(self, optimizer, args, kwargs) -> None:
        if self._runner.epoch >= self.epochs:
            return
        for group in optimizer.param_groups:
            for param in group['params']:
                if id(param) in self.frozen:
                    param.grad = None
