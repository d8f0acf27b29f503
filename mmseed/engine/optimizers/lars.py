"""LARS with a choice of the trust ratio's denominator."""
from typing import Iterable

import torch
from mmpretrain.engine.optimizers import LARS as _LARS

from mmseed.registry import OPTIMIZERS

__all__ = ['LARS']


@OPTIMIZERS.register_module()
class LARS(_LARS):
    """mmpretrain's LARS, or the variant of google-research/simclr.

    The two differ only in the layer's trust ratio, for parameters not
    excluded from it (``lars_exclude`` in ``paramwise_cfg``):

    * ``trust_norm='sum'`` (default, mmpretrain's ``LARS`` unchanged; You et
      al. 2017, Algorithm 1): ``eta * |w| / (|g| + wd * |w| + eps)``.
    * ``trust_norm='update'`` (SimCLR v1/v2, ``tf2/lars_optimizer.py``): the
      norm of the update itself, ``eta * |w| / |g + wd * w|``, 1 where either
      norm is 0, no ``eps``.

    Either way the update is ``v = momentum * v + lr * trust * (g + wd *
    w)``, ``w -= v`` (``nesterov`` as mmpretrain's).

    Args:
        params (Iterable): Parameters or parameter groups.
        lr (float): Learning rate.
        trust_norm (str): ``'sum'`` or ``'update'``. Defaults to ``'sum'``.
        **kwargs: ``momentum``, ``weight_decay``, ``dampening``, ``eta``,
            ``nesterov``, ``eps``, as mmpretrain's ``LARS``.
    """

    def __init__(self, params: Iterable, lr: float, trust_norm: str = 'sum',
                 **kwargs) -> None:
        if trust_norm not in ('sum', 'update'):
            raise ValueError(f"LARS trust_norm must be 'sum' or 'update', "
                             f'got {trust_norm!r}')
        super().__init__(params, lr=lr, **kwargs)
        self.trust_norm = trust_norm

    @torch.no_grad()
    def step(self, closure=None):
        """One optimisation step (see the class docstring)."""
        if self.trust_norm == 'sum':
            return super().step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            decay, momentum = group['weight_decay'], group['momentum']
            for p in group['params']:
                if p.grad is None:
                    continue
                update = p.grad.add(p, alpha=decay)
                if not group.get('lars_exclude', False):
                    w_norm, u_norm = torch.norm(p), torch.norm(update)
                    trust = torch.where((w_norm > 0) & (u_norm > 0),
                                        group['eta'] * w_norm / u_norm,
                                        torch.ones_like(w_norm))
                    update.mul_(trust)
                update.mul_(group['lr'])
                if momentum != 0:
                    state = self.state[p]
                    if 'momentum_buffer' not in state:
                        buf = state['momentum_buffer'] = update.clone()
                    else:
                        buf = state['momentum_buffer']
                        buf.mul_(momentum).add_(
                            update, alpha=1 - group['dampening'])
                    update = update.add(buf, alpha=momentum) \
                        if group['nesterov'] else buf
                p.sub_(update)
        return loss
