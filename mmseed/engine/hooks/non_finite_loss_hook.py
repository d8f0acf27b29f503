"""Stopping, or skipping, a training step whose loss is NaN or infinite."""
import logging
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_reduce, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor, nn

from mmseed.errors import NonFiniteLossError
from mmseed.registry import HOOKS

__all__ = ['NonFiniteLossError', 'NonFiniteLossHook']


def volatile_state(model: nn.Module) -> List[Tensor]:
    """Tensors that a training step may change outside the optimizer.

    These are the buffers and the frozen (``requires_grad=False``) parameters
    of every module in training mode: BatchNorm statistics, embedding queues
    and their pointers, momentum (EMA) encoders. Modules in eval mode, such as
    a frozen distillation teacher, do not change and are left out.

    Args:
        model (nn.Module): The model being trained.

    Returns:
        List[Tensor]: Each tensor once.
    """
    seen, state = set(), []
    for module in model.modules():
        if not module.training:
            continue
        frozen = (p for p in module.parameters(recurse=False)
                  if not p.requires_grad)
        for tensor in (*module.buffers(recurse=False), *frozen):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                state.append(tensor)
    return state


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Check every training step's loss terms before the parameters update.

    A NaN or infinite loss term (e.g. an fp16 overflow, a bad input, a
    diverging learning rate) otherwise turns the weights into NaN, and the run
    trains on garbage until someone looks. This hook checks each term (every
    key of the model's losses that contains ``'loss'``, and their sum) after
    ``parse_losses`` and before ``optim_wrapper.update_params``, on every
    rank; one non-finite term on any rank counts for all ranks. Then:

    * ``mode='stop'`` (default): raise :class:`NonFiniteLossError` naming the
      iteration, each loss term's value and the learning rate. Nothing has
      been updated: the last checkpoint and the current weights are clean.
      Stopping is the default, as DINO and MAE stop on a non-finite loss: it
      is usually a symptom (learning rate, data) that skipping would hide.
    * ``mode='skip'``: undo the step instead. No backward pass and no
      optimizer step run, so parameters, momentum, weight decay and the AMP
      loss scale do not change; the model's other state that the forward pass
      changed (BatchNorm statistics, queues, momentum encoders, see
      :func:`volatile_state`) is restored from a copy taken before the step.
      A warning gives the same facts and a running count of skipped steps.
      After ``max_consecutive_skips`` skipped steps in a row, it stops.

    It works with any model whose ``train_step`` calls ``parse_losses`` and
    ``optim_wrapper.update_params`` (mmengine's default, used by mmpretrain's
    MoCo and mmseed's SEED) and any optimizer wrapper, including
    ``AmpOptimWrapper``: the hook wraps those two methods when training
    starts, so it does not depend on the ``optim_wrapper`` type in a config.

    Args:
        mode (str): ``'stop'`` or ``'skip'``. Defaults to ``'stop'``.
        max_consecutive_skips (int): In skip mode, stop when this many steps
            in a row had a non-finite loss. Defaults to 20.
    """

    priority = 'NORMAL'

    def __init__(self, mode: str = 'stop',
                 max_consecutive_skips: int = 20) -> None:
        if mode not in ('stop', 'skip'):
            raise ValueError(f"mode must be 'stop' or 'skip', got {mode!r}")
        if max_consecutive_skips < 1:
            raise ValueError('max_consecutive_skips must be at least 1, got '
                             f'{max_consecutive_skips}')
        self.mode = mode
        self.max_consecutive_skips = max_consecutive_skips
        self.num_skipped = 0
        self._consecutive = 0
        self._skip_pending = False
        self._saved: List[Tuple[Tensor, Tensor]] = []
        self._patched: List[Tuple[object, str]] = []
        self._runner = None

    def before_train(self, runner) -> None:
        """Wrap the model's ``parse_losses`` and the optimizer wrapper(s)'
        ``update_params``."""
        self._runner = runner
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        parse_losses = model.parse_losses

        def checked_parse_losses(losses: Dict[str, Tensor]):
            loss, log_vars = parse_losses(losses)
            self._check(loss, log_vars)
            return loss, log_vars

        model.parse_losses = checked_parse_losses
        self._patched = [(model, 'parse_losses')]
        wrappers = (list(runner.optim_wrapper.optim_wrappers.values())
                    if isinstance(runner.optim_wrapper, OptimWrapperDict) else
                    [runner.optim_wrapper])
        for wrapper in wrappers:
            wrapper.update_params = self._guarded(wrapper)
            self._patched.append((wrapper, 'update_params'))

    def after_train(self, runner) -> None:
        """Remove the wrappers."""
        for obj, name in self._patched:
            vars(obj).pop(name, None)
        self._patched = []

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """In skip mode, copy the state a step may change besides weights."""
        if self.mode == 'skip':
            model = runner.model.module if is_model_wrapper(runner.model) \
                else runner.model
            self._saved = [(t, t.detach().clone())
                           for t in volatile_state(model)]

    def _guarded(self, wrapper: OptimWrapper):
        """``wrapper.update_params`` that does nothing for a skipped step."""
        update_params = wrapper.update_params

        def guarded_update_params(loss: Tensor, *args, **kwargs) -> None:
            if not self._skip_pending:
                update_params(loss, *args, **kwargs)
                return
            self._skip_pending = False
            # Count the step as taken, as mmengine does after a backward, so
            # gradient-accumulation windows and resuming stay aligned; drop
            # what the window accumulated if this step would have stepped.
            wrapper._inner_count += 1
            if wrapper.should_update():
                wrapper.zero_grad()

        return guarded_update_params

    def _check(self, loss: Tensor, log_vars: Dict[str, Tensor]) -> None:
        """Stop or mark the step skipped if a loss term is not finite."""
        terms = {k: v for k, v in log_vars.items()
                 if 'loss' in k and isinstance(v, Tensor)}
        values = [loss.detach().float().mean()]
        values += [v.detach().float().mean() for v in terms.values()]
        bad = (~torch.isfinite(torch.stack(values)).all()).float().reshape(1)
        all_reduce(bad)  # how many ranks saw one; no-op without DDP
        bad_ranks = int(bad.item())
        if bad_ranks == 0:
            self._consecutive = 0
            return
        facts = self._facts(terms, bad_ranks)
        if self.mode == 'stop':
            raise NonFiniteLossError(
                f'non-finite loss at {facts}; training stopped before the '
                'weights were updated. Lower the learning rate or check the '
                "data, or set NonFiniteLossHook's mode='skip' (custom_hooks) "
                'to skip such steps')
        self.num_skipped += 1
        self._consecutive += 1
        if self._consecutive >= self.max_consecutive_skips:
            raise NonFiniteLossError(
                f'non-finite loss at {facts}; {self._consecutive} steps in a '
                f'row had one (max_consecutive_skips='
                f'{self.max_consecutive_skips}), so the run is not '
                'recovering: lower the learning rate or check the data')
        with torch.no_grad():
            for tensor, saved in self._saved:
                tensor.copy_(saved)
        self._skip_pending = True
        print_log(
            f'skipped the step at {facts}: weights, optimizer and buffers '
            f'left unchanged ({self.num_skipped} step(s) skipped so far)',
            logger='current',
            level=logging.WARNING)

    def _facts(self, terms: Dict[str, Tensor], bad_ranks: int) -> str:
        """``iteration N: loss_a=nan, loss=nan; lr=0.1`` (and the ranks)."""
        runner = self._runner
        losses = ', '.join(f'{k}={v.detach().float().mean().item():.6g}'
                           for k, v in terms.items())
        lrs = []
        for key, values in runner.optim_wrapper.get_lr().items():
            if key.endswith('base_lr'):
                continue
            shown = sorted(set(values))
            lrs.append(f'{key}={shown[0]:.6g}' if len(shown) == 1 else
                       f'{key}=[{", ".join(f"{v:.6g}" for v in shown)}]')
        text = f'iteration {runner.iter + 1}: {losses}; {", ".join(lrs)}'
        world = get_world_size()
        if world > 1:
            text += (f' (non-finite on {bad_ranks} of {world} ranks; the '
                     f'values are rank {get_rank()}\'s)')
        return text
