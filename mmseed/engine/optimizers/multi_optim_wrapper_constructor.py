"""One optimizer per sub-module: an ``OptimWrapperDict`` from a config."""
from typing import Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from mmseed.errors import ConfigError
from mmseed.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['MultiOptimWrapperConstructor']


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """Build one optimizer wrapper for each named child of the model.

    ``optim_wrapper = dict(constructor='MultiOptimWrapperConstructor',
    peer1=dict(optimizer=...), peer2=dict(optimizer=...))`` gives an
    ``OptimWrapperDict`` with ``peer1`` over ``model.peer1``'s parameters
    and ``peer2`` over ``model.peer2``'s, each built as a single-optimizer
    ``optim_wrapper`` is (``type`` defaults to ``OptimWrapper``;
    ``paramwise_cfg`` applies within its module). Every trainable parameter
    of the model must belong to one of them. Parameter schedulers may be
    given per name (``param_scheduler = dict(peer1=[...], peer2=[...])``) or
    once for all.

    Args:
        optim_wrapper_cfg (dict): Child name -> its optimizer wrapper config.
        paramwise_cfg (dict, optional): Not used; set it per child.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg:
            raise ConfigError('MultiOptimWrapperConstructor takes '
                              'paramwise_cfg per child: optim_wrapper.'
                              '<child>.paramwise_cfg')
        self.optim_wrapper_cfg = dict(optim_wrapper_cfg)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            if cfg is None:
                continue  # removed, e.g. with --cfg-options x=None
            if not isinstance(cfg, dict):
                raise ConfigError(f'optim_wrapper.{name} must be a dict '
                                  f'with an optimizer, got {cfg!r}')
            child = getattr(model, name, None)
            if not isinstance(child, nn.Module):
                raise ConfigError(
                    f'optim_wrapper.{name}: the model has no sub-module '
                    f'{name!r}; name one of '
                    f'{", ".join(n for n, _ in model.named_children())}')
            cfg = dict(cfg)
            cfg.setdefault('type', 'OptimWrapper')
            paramwise = cfg.pop('paramwise_cfg', None)
            wrappers[name] = DefaultOptimWrapperConstructor(cfg, paramwise)(
                child)
        covered = {id(p) for name in wrappers
                   for p in getattr(model, name).parameters()}
        left = [n for n, p in model.named_parameters()
                if p.requires_grad and id(p) not in covered]
        if left:
            child = left[0].split('.')[0]
            raise ConfigError(
                f'no optimizer trains {len(left)} parameters, e.g. {left[0]}:'
                f' add optim_wrapper.{child} = dict(optimizer=...)')
        return OptimWrapperDict(**wrappers)
