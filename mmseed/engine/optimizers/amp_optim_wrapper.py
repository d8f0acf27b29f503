"""mmengine's ``AmpOptimWrapper`` without the deprecated CUDA ``GradScaler``.

mmengine 0.10.7 builds the loss scaler of ``AmpOptimWrapper`` with
``torch.cuda.amp.GradScaler(...)``, deprecated since torch 2.4: every
mixed-precision run on a GPU prints "FutureWarning: `torch.cuda.amp.GradScaler
(args...)` is deprecated. Please use `torch.amp.GradScaler('cuda', args...)`
instead." The subclass here, registered under the same name in mmseed's
``OPTIM_WRAPPERS``, builds ``torch.amp.GradScaler('cuda', ...)`` instead.
``tools/train.py --amp`` names it (``type='mmseed.AmpOptimWrapper'``), and so
does ``type='AmpOptimWrapper'`` in a config with ``default_scope='mmseed'``.
"""
from typing import Optional, Union

import torch
from mmengine.device import get_device
from mmengine.optim import AmpOptimWrapper as MMEngineAmpOptimWrapper
from mmengine.optim import OptimWrapper

from mmseed.registry import OPTIM_WRAPPERS

__all__ = ['AmpOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class AmpOptimWrapper(MMEngineAmpOptimWrapper):
    """Automatic mixed precision with ``torch.amp.GradScaler`` on CUDA.

    Same arguments and behaviour as mmengine's ``AmpOptimWrapper``. Only the
    construction of the scaler on CUDA differs; FSDP's sharded scaler, the
    NPU/MLU/MUSA scalers and mmengine's error on a machine without any of
    these accelerators stay mmengine's.

    Args:
        loss_scale (str | float | dict): ``'dynamic'``, a static scale, or
            the arguments of ``torch.amp.GradScaler``. Defaults to
            ``'dynamic'``.
        dtype (str | torch.dtype, optional): The autocast dtype, e.g.
            ``'bfloat16'``. Defaults to None (float16).
        use_fsdp (bool): Use FSDP's ``ShardedGradScaler``. Defaults to False.
        **kwargs: The arguments of ``OptimWrapper`` (``optimizer``, ...).
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 use_fsdp: bool = False,
                 **kwargs) -> None:
        if use_fsdp or get_device() != 'cuda':
            super().__init__(loss_scale=loss_scale, dtype=dtype,
                             use_fsdp=use_fsdp, **kwargs)
            return
        # mmengine's __init__ would build torch.cuda.amp.GradScaler.
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        if loss_scale == 'dynamic':
            scaler_args = {}
        elif isinstance(loss_scale, float):
            self._scale_update_param = loss_scale
            scaler_args = dict(init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            scaler_args = loss_scale
        else:
            raise TypeError('loss_scale must be a float, a dict or '
                            f"'dynamic', but got {loss_scale!r}")
        self.loss_scaler = torch.amp.GradScaler('cuda', **scaler_args)
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ValueError(f'dtype must be one of {self.valid_dtypes}, '
                                 f'got {dtype!r}')
            dtype = getattr(torch, dtype)
        if dtype is not None and not isinstance(dtype, torch.dtype):
            raise TypeError(f'dtype must be None, a str or a torch.dtype, '
                            f'got {dtype!r}')
        self.cast_dtype = dtype
