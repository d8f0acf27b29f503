"""Teacher checkpoints from other code bases, mapped onto mmseed's layout.

An mmseed teacher has a ``backbone`` (an mmpretrain backbone such as
``ResNet``, whose keys equal torchvision's ResNet without ``fc``), an
optional ``neck`` (an mmpretrain neck) and an optional classifier ``head``
(e.g. ``LinearClsHead``), so its state dict holds ``backbone.*``, ``neck.*``
and ``head.*`` keys. A format that carries a classifier maps it to
``head.*`` when the teacher has a head, and leaves it out otherwise. The formats
understood here:

* ``'moco'``: official MoCo v1/v2 (``module.encoder_q.*``); the encoder's
  ``fc`` becomes the neck: ``fc.0``/``fc.2`` → ``MoCoV2Neck``'s ``mlp.0``/
  ``mlp.2``, a single ``fc`` → ``LinearNeck``'s ``fc`` (use
  ``norm_cfg=None``). The key encoder and the queue are dropped.
* ``'swav'``: official SwAV (``module.projection_head.*``,
  ``module.prototypes.*``); ``projection_head`` → ``SwAVNeck``'s
  ``projection_neck`` (its BatchNorm also under ``norm``, as ``SwAVNeck``
  registers it twice); the prototypes are dropped.
* ``'torchvision'``: the backbone, and the ``fc`` classifier as
  ``LinearClsHead``'s ``head.fc``.
* ``'simclr'``: SimCLR ResNet-50 in torchvision layout under a top-level
  ``'model'`` entry, as the official SEED code loads it (jacobswan1/SEED
  ``tools/utils.py:load_simclr_teacher_encoder``,
  ``seed/architectures/simclr/simclr_resnet.py``). Its projection head
  ``fc = Linear(2048, 2048) - BatchNorm1d - ReLU - Linear(2048, 128)``
  (``fc.0``, ``fc.1``, ``fc.3``, biases on both Linears) becomes
  ``NonLinearNeck``'s ``fc0``, ``bn0``, ``fc1`` (configure it with
  ``with_bias=True, with_last_bias=True, with_last_bn=False``); a single
  ``fc`` is a classifier, mapped as torchvision's.
* ``'mmpretrain'``: mmpretrain/mmselfsup checkpoints; ``backbone.*``,
  ``neck.*`` and ``head.*`` (an ``ImageClassifier``'s classifier) are kept,
  momentum encoder and queue dropped.
* ``'mmseed'``: a teacher file written by
  ``tools/model_converters/convert_teacher.py``, used as is.
* ``'mmseed_seed'``: an mmseed SEED training checkpoint; its ``teacher.*``.

Leading ``module.`` prefixes (from ``DataParallel``) are ignored everywhere.
"""
import logging
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Mapping, Tuple

from mmengine.logging import print_log
from torch import Tensor, nn

from mmseed.errors import CheckpointError
from mmseed.utils.checkpoint import load_checkpoint_file

__all__ = [
    'FORMATS', 'detect_format', 'convert_to_teacher_state_dict',
    'load_teacher_weights'
]

FORMATS = ('moco', 'swav', 'torchvision', 'simclr', 'mmpretrain', 'mmseed',
           'mmseed_seed')
# Entries that hold the state dict inside a checkpoint, tried in this order.
_WRAPPER_KEYS = ('state_dict', 'model')
_SHOWN = 5  # how many keys an error message names
# A teacher's parts, as state-dict prefixes.
_PARTS = ('backbone.', 'neck.', 'head.')
# What to do when a checkpoint has a projection head the teacher lacks.
_EXTRA_NECK_HINT = (
    'projection head (neck) weights but the teacher has no neck: configure '
    'model.teacher.neck as the checkpoint was trained (e.g. MoCo v2: '
    'MoCoV2Neck; SimCLR: NonLinearNeck with with_bias=True, '
    'with_last_bias=True, with_last_bn=False)')
# What a teacher configured with a part needs when the checkpoint lacks it.
_PART_HINTS = {
    'neck.': ('no projection head (neck) weights, so configure the teacher '
              'without a neck (model.teacher.neck=None); its embeddings are '
              'then the pooled backbone features'),
    'head.': ('no classifier head weights, so configure the teacher without '
              'a head (model.teacher.head=None) or use a checkpoint of a '
              'classifier'),
}


def _unwrap(checkpoint: Any) -> Dict[str, Any]:
    """Return the state dict inside ``checkpoint``, without ``module.``."""
    state = checkpoint
    while isinstance(state, Mapping):
        inner = [state[k] for k in _WRAPPER_KEYS
                 if isinstance(state.get(k), Mapping)]
        if not inner:
            break
        state = inner[0]
    if not isinstance(state, Mapping):
        raise CheckpointError(
            f'a checkpoint must hold a dict of tensors, got '
            f'{type(state).__name__}; use a state dict of one of the '
            f'supported formats ({", ".join(FORMATS)})')
    bad = [k for k in state if not isinstance(k, str)]
    if bad:
        raise CheckpointError(
            f'the checkpoint is not a state dict: it has non-string keys '
            f'such as {bad[:_SHOWN]!r}')
    return OrderedDict((re.sub(r'^(module\.)+', '', k), v)
                       for k, v in state.items())


def _detect(checkpoint: Any, state: Mapping[str, Any]) -> str:
    """Name the format of ``state``, the unwrapped state dict of ``checkpoint``.
    """

    def has(prefix: str) -> bool:
        return any(k.startswith(prefix) for k in state)

    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    if isinstance(meta, Mapping) and meta.get('mmseed_format') == 'teacher':
        return 'mmseed'
    if has('teacher.backbone.'):
        return 'mmseed_seed'
    if has('backbone.'):
        return 'mmpretrain'
    if has('encoder_q.'):
        return 'moco'
    if 'conv1.weight' in state:
        if has('projection_head') or has('prototypes'):
            return 'swav'
        if isinstance(checkpoint, Mapping) and 'model' in checkpoint:
            return 'simclr'
        return 'torchvision'
    keys = list(state)[:_SHOWN]
    raise CheckpointError(
        f'unknown teacher checkpoint format (first keys: {keys}); supported: '
        'official MoCo (module.encoder_q.*), official SwAV '
        '(module.projection_head.*), torchvision/SimCLR ResNet (conv1.*, '
        'layer1.*), mmpretrain/mmselfsup (backbone.*, neck.*), mmseed '
        '(teacher.backbone.*); convert other checkpoints to one of these')


def detect_format(state: Any) -> str:
    """Detect the format of a loaded teacher checkpoint.

    Args:
        state (Any): What the checkpoint file holds: the raw loaded object
            (``{'state_dict': ...}``, ``{'model': ...}``) or a plain state
            dict. ``'mmseed'`` and ``'simclr'`` are recognised by the wrapper
            (``meta``, ``model``), so pass the raw object to tell them apart.

    Returns:
        str: One of :data:`FORMATS`.

    Raises:
        CheckpointError: The format is not recognised.
    """
    return _detect(state, _unwrap(state))


def _map_moco(state: Mapping[str, Any]) -> Dict[str, Any]:
    out = OrderedDict()
    for key, value in state.items():
        if not key.startswith('encoder_q.'):
            continue  # encoder_k, queue, queue_ptr
        key = key[len('encoder_q.'):]
        if re.match(r'fc\.\d+\.', key):  # MoCo v2 MLP
            out['neck.mlp.' + key[len('fc.'):]] = value
        elif key.startswith('fc.'):  # MoCo v1 linear projection
            out['neck.' + key] = value
        else:
            out['backbone.' + key] = value
    return out


def _map_swav(state: Mapping[str, Any]) -> Dict[str, Any]:
    out = OrderedDict()
    for key, value in state.items():
        if key.startswith(('prototypes', 'fc.')):
            continue
        if key.startswith('projection_head.'):
            rest = key[len('projection_head.'):]
            out['neck.projection_neck.' + rest] = value
            # SwAVNeck holds its BatchNorm as both projection_neck.1 and norm.
            if rest.startswith('1.') and 'projection_head.1.running_mean' \
                    in state:
                out['neck.norm.' + rest[len('1.'):]] = value
        else:
            out['backbone.' + key] = value
    return out


def _map_torchvision(state: Mapping[str, Any]) -> Dict[str, Any]:
    return OrderedDict(
        (('head.' if k.startswith('fc.') else 'backbone.') + k, v)
        for k, v in state.items())


# SimCLR's projection head (fc.0, fc.1, fc.3) -> NonLinearNeck's names.
_SIMCLR_HEAD = {'fc.0.': 'neck.fc0.', 'fc.1.': 'neck.bn0.', 'fc.3.': 'neck.fc1.'}


def _map_simclr(state: Mapping[str, Any]) -> Dict[str, Any]:
    if 'fc.0.weight' not in state:
        return _map_torchvision(state)
    out = OrderedDict()
    for key, value in state.items():
        head = next((p for p in _SIMCLR_HEAD if key.startswith(p)), None)
        out[_SIMCLR_HEAD[head] + key[len(head):] if head else
            'backbone.' + key] = value
    return out


def _map_mmpretrain(state: Mapping[str, Any]) -> Dict[str, Any]:
    return OrderedDict((k, v) for k, v in state.items()
                       if k.startswith(_PARTS))


def _map_mmseed_seed(state: Mapping[str, Any]) -> Dict[str, Any]:
    return OrderedDict((k[len('teacher.'):], v) for k, v in state.items()
                       if k.startswith(tuple('teacher.' + p for p in _PARTS)))


_MAPPERS: Dict[str, Callable[[Mapping[str, Any]], Dict[str, Any]]] = {
    'moco': _map_moco,
    'swav': _map_swav,
    'torchvision': _map_torchvision,
    'simclr': _map_simclr,
    'mmpretrain': _map_mmpretrain,
    'mmseed': _map_mmpretrain,
    'mmseed_seed': _map_mmseed_seed,
}


def convert_to_teacher_state_dict(checkpoint: Any,
                                  fmt: str = 'auto',
                                  with_head: bool = False
                                  ) -> Tuple[Dict[str, Tensor], str]:
    """Map a loaded checkpoint onto a teacher's ``backbone.*``/``neck.*`` keys
    (and ``head.*``, the classifier, with ``with_head``).

    Args:
        checkpoint (Any): The loaded checkpoint (wrapped in ``state_dict`` or
            ``model``, or a plain state dict).
        fmt (str): One of :data:`FORMATS`, or ``'auto'`` to detect it.
            Defaults to ``'auto'``.
        with_head (bool): Keep the classifier of a format that carries one
            (for a teacher with a ``head``). Defaults to False.

    Returns:
        Tuple[Dict[str, Tensor], str]: The teacher state dict (an
        ``OrderedDict``) and the format name.

    Raises:
        CheckpointError: Unknown format, or no backbone weights found.
    """
    state = _unwrap(checkpoint)
    if fmt == 'auto':
        fmt = _detect(checkpoint, state)
    elif fmt not in _MAPPERS:
        raise CheckpointError(
            f'unknown checkpoint format {fmt!r}; choose auto or one of '
            f'{", ".join(FORMATS)}')
    converted = _MAPPERS[fmt](state)
    if not with_head:
        converted = OrderedDict((k, v) for k, v in converted.items()
                                if not k.startswith('head.'))
    if not any(k.startswith('backbone.') for k in converted):
        raise CheckpointError(
            f'no backbone weights found reading the checkpoint as {fmt} '
            f'(first keys: {list(state)[:_SHOWN]}); is it a {fmt} checkpoint?')
    not_tensors = [k for k, v in converted.items() if not isinstance(v, Tensor)]
    if not_tensors:
        raise CheckpointError(
            f'the {fmt} checkpoint has non-tensor weights, e.g. '
            f'{not_tensors[:_SHOWN]}; it is not a usable state dict')
    return converted, fmt


def _mismatch_message(fmt: str, filename: str, missing: List[str],
                      unexpected: List[str],
                      shapes: List[Tuple[str, tuple, tuple]],
                      lacking: List[str], extra_neck: bool = False) -> str:
    """One line explaining why a teacher checkpoint does not fit."""
    parts = [f'teacher checkpoint {filename} ({fmt} format) does not match '
             'the teacher model']
    for part in lacking:
        parts.append(f'the {fmt} checkpoint has {_PART_HINTS[part]}')
    if extra_neck:
        parts.append(f'the {fmt} checkpoint has {_EXTRA_NECK_HINT}')
    if missing:
        parts.append(f'{len(missing)} missing keys, e.g. {missing[:_SHOWN]}')
    if unexpected:
        parts.append(
            f'{len(unexpected)} unexpected keys, e.g. {unexpected[:_SHOWN]}')
    if shapes:
        shown = ', '.join(f'{k}: checkpoint {tuple(a)} vs model {tuple(b)}'
                          for k, a, b in shapes[:_SHOWN])
        parts.append(f'{len(shapes)} shape mismatches, e.g. {shown}')
    if shapes or not (lacking or extra_neck):
        parts.append(
            "does the teacher config match the checkpoint's architecture? "
            'e.g. model.teacher.backbone.depth, model.teacher.neck type and '
            'channels (MoCo v1: LinearNeck with norm_cfg=None)')
    return '; '.join(parts)


def load_teacher_weights(teacher: nn.Module,
                         filename: str,
                         strict: bool = True) -> str:
    """Load a teacher checkpoint of any supported format into ``teacher``.

    Args:
        teacher (nn.Module): Module with ``backbone``, optional ``neck`` and
            optional ``head``.
        filename (str): Path of the checkpoint file.
        strict (bool): Fail on missing or unexpected keys. Shape mismatches
            always fail. Defaults to True.

    Returns:
        str: The detected format name.

    Raises:
        CheckpointError: The file cannot be read, its format is unknown, or
            its weights do not fit ``teacher``; the message says what to fix.
    """
    own = teacher.state_dict()

    def has(keys, part: str) -> bool:
        return any(k.startswith(part) for k in keys)

    state, fmt = convert_to_teacher_state_dict(
        load_checkpoint_file(filename), with_head=has(own, 'head.'))
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [(k, v.shape, own[k].shape) for k, v in state.items()
              if k in own and v.shape != own[k].shape]
    lacking = [p for p in _PART_HINTS if has(own, p) and not has(state, p)]
    extra_neck = has(state, 'neck.') and not has(own, 'neck.')
    if shapes or (strict and (missing or unexpected)):
        raise CheckpointError(
            _mismatch_message(fmt, str(filename), missing, unexpected, shapes,
                              lacking if strict else [], extra_neck))
    if missing or unexpected:
        print_log(
            _mismatch_message(fmt, str(filename), missing, unexpected, [],
                              lacking, extra_neck) +
            ' (loaded the rest, strict=False)',
            logger='current', level=logging.WARNING)
    try:
        teacher.load_state_dict(state, strict=strict)
    except RuntimeError as err:  # e.g. a module-specific load hook
        raise CheckpointError(
            f'teacher checkpoint {filename} ({fmt} format) could not be '
            f'loaded: {" ".join(str(err).split())}') from None
    return fmt
