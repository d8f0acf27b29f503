"""Training throughput of mmseed against a plain PyTorch loop, in one run.

``python tools/benchmarks/throughput.py CONFIG [--method seed moco]
[--device cpu|cuda] [--batch-size N] [--iters N] [--warmup N] [--repeats N]
[--amp bf16|none] [--channels-last] [--out results.json]``

For each method it times two paths on the same synthetic batches (random
uint8 images, already at the config's crop size, so the augmentation pipeline
is left out; ``data_throughput.py`` measures that):

* **mmseed**: the framework as training runs it. The model is built from the
  config by the registry, and mmengine's ``Runner`` drives it with an
  ``IterBasedTrainLoop``: the config's dataloader settings (sampler,
  ``default_collate``), ``model.train_step`` with the optim wrapper built from
  the config (``AmpOptimWrapper`` in bf16 with ``--amp bf16``), the data
  pre-processor, the config's default hooks (without checkpointing), custom
  hooks, logger and visualizer.
* **plain**: a hand-written PyTorch loop of the same computation on the same
  modules (taken from the built model, reset to the weights the mmseed path
  started from): teacher forward under ``inference_mode``, student forward and
  backward, the same optimizer and hyper-parameters, the queue update, and
  :func:`mmseed.models.losses.seed_loss.seed_loss`.

``--method seed`` times SEED (the config's model); ``--method moco`` times the
student's own MoCo-v2 step (mmseed's ``MoCoV2``, mmpretrain's ``MoCo`` with
the key encoder first, with the SEED config's student backbone, neck, queue
and optimizer; a MoCo config is used as it is).

Each path runs ``--warmup`` untimed steps, ``--iters`` steps timed as a whole
(images/s), then ``--split-iters`` steps timed section by section (on CUDA with
a synchronisation around each section, which is why they are separate): data
(loading the batch, to device, pre-processing) / teacher forward (MoCo: key
encoder momentum update and forward) / student forward, backward and optimizer
step / queue update / other (the rest of the iteration: hooks, logging).
The teacher has random weights (no checkpoint is needed to time it).

With ``--repeats R`` both paths run R times, the first path alternating
(mmseed, plain, mmseed, ...), so a slow drift in the machine's speed (a shared
machine's neighbours) does not favour either. Images/s are the medians over
the rounds, and mmseed/plain is the median of the rounds' paired ratios; the
report keeps every round's numbers.

Prints a Markdown table (one row per path and method) and writes a JSON
report with the machine (CPU, cores, GPU, versions), settings, and results.
"""
import argparse
import contextlib
import copy
import functools
import gc
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.structures import DataSample
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

import mmseed  # noqa: F401  (applies the compatibility patches)
from mmseed.models.losses.seed_loss import seed_loss
from mmseed.utils import register_all_modules
from mmseed.utils.cli import run_with_clear_errors
from mmseed.utils.config_check import ConfigError

from bench_utils import machine_info, markdown_table, write_json

__all__ = [
    'SectionClock', 'PeakMemory', 'SyntheticViews', 'RunnerTimer',
    'PlainSEED', 'PlainMoCo', 'benchmark', 'main'
]

METHODS = ('seed', 'moco')
# The section a method's target network (SEED's teacher, MoCo's momentum
# key encoder) is timed under.
TARGET_SECTION = dict(seed='teacher', moco='key_encoder')
SPLIT_KEYS = ('data', 'target', 'student', 'queue', 'other')
# The student's own MoCo-v2 (Chen et al., 2020, arXiv:2003.04297), as
# configs/mocov2/mocov2_r50_8xb32-200e_in1k.py: key encoder momentum 0.999
# (mmpretrain's momentum is 1 - m) and temperature 0.2.
MOCO_MOMENTUM = 0.001
MOCO_TEMPERATURE = 0.2


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Training images/s of mmseed against a plain PyTorch '
        'loop of the same computation')
    parser.add_argument('config', help='a SEED (or MoCo) config file')
    parser.add_argument(
        '--method', nargs='+', choices=METHODS, default=['seed'],
        help='what to time: the config\'s SEED step and/or the student\'s '
        'own MoCo-v2 step (default: seed)')
    parser.add_argument(
        '--device', choices=['cpu', 'cuda'],
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='default: cuda when available')
    parser.add_argument('--batch-size', type=int,
                        help='images per step (default: the config\'s '
                        'train_dataloader.batch_size)')
    parser.add_argument('--iters', type=int, default=20,
                        help='steps timed as a whole for images/s')
    parser.add_argument('--warmup', type=int, default=5,
                        help='untimed steps first')
    parser.add_argument('--repeats', type=int, default=1,
                        help='rounds of both paths, in alternating order '
                        '(mmseed first, then plain first, ...); images/s '
                        'and the ratio are medians over the rounds')
    parser.add_argument('--split-iters', type=int,
                        help='steps timed section by section afterwards '
                        '(default: --iters; 0 skips the split)')
    parser.add_argument('--amp', choices=['bf16', 'none'], default='none',
                        help='bf16 autocast (CUDA only)')
    parser.add_argument('--channels-last', action='store_true',
                        help='models (and plain-loop inputs) in channels-last '
                        'memory format')
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help='set torch.backends.cudnn.benchmark (the '
                        'config\'s env_cfg.cudnn_benchmark otherwise)')
    parser.add_argument('--image-size', type=int,
                        help='image side in pixels (default: the crop size '
                        'of the config\'s train pipeline)')
    parser.add_argument('--workers', type=int, default=0,
                        help='dataloader workers of both paths (default 0: '
                        'the synthetic batches are in memory)')
    parser.add_argument('--threads', type=int,
                        help='torch intra-op threads (default: torch\'s)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--out', help='JSON report path (default: '
                        'work_dirs/benchmarks/throughput_<config>_<device>'
                        '.json)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (e.g. model.queue_len=4096)')
    return parser.parse_args(argv)


class SectionClock:
    """Accumulates the wall time of named sections of a training step.

    Inactive, a section costs nothing; active, it synchronises CUDA before
    reading the clock at both ends, so each section's time is its own work.

    Args:
        device (torch.device): The device the step runs on.
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'
        self.active = False
        self.totals: Dict[str, float] = defaultdict(float)
        self._wrapped: List[Tuple[object, str]] = []

    def now(self) -> float:
        """The time in seconds, after the device's queued work finished."""
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def add(self, name: str, seconds: float) -> None:
        self.totals[name] += seconds

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Time the enclosed code as ``name`` when the clock is active."""
        if not self.active:
            yield
            return
        start = self.now()
        try:
            yield
        finally:
            self.add(name, self.now() - start)

    def wrap(self, owner: object, attr: str, name: str) -> None:
        """Time every call of ``owner.attr`` as section ``name``, by an
        instance attribute that shadows the method until :meth:`unwrap`."""
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            with self.section(name):
                return original(*args, **kwargs)

        setattr(owner, attr, timed)
        self._wrapped.append((owner, attr))

    def unwrap(self) -> None:
        """Remove every wrapper: the class's methods are seen again."""
        for owner, attr in reversed(self._wrapped):
            delattr(owner, attr)
        self._wrapped.clear()


class PeakMemory:
    """Peak memory of one path: CUDA's allocated peak, or on CPU the
    process's peak resident set size.

    On Linux the RSS peak (``VmHWM``) is reset before each path through
    ``/proc/self/clear_refs``; elsewhere it is ``resource.getrusage``'s peak
    since the process started, which is not reset (so a later path reports at
    least an earlier one's peak). :attr:`kind` says which.

    Args:
        device (torch.device): The device the paths run on.
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'
        if self.cuda:
            self.kind = ('torch.cuda.max_memory_allocated, reset before '
                         'each path')
        elif self._reset_rss():
            self.kind = ('process peak RSS (VmHWM, /proc/self/status), '
                         'reset before each path')
        else:
            self.kind = ('process peak RSS since start '
                         '(resource.getrusage ru_maxrss), not reset')

    @staticmethod
    def _reset_rss() -> bool:
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')  # 5: reset the peak RSS (Linux proc(5))
            return PeakMemory._vm_hwm_kib() is not None
        except OSError:
            return False

    @staticmethod
    def _vm_hwm_kib() -> Optional[int]:
        try:
            with open('/proc/self/status') as f:
                match = re.search(r'VmHWM:\s+(\d+)\s+kB', f.read())
        except OSError:
            return None
        return int(match.group(1)) if match else None

    def reset(self) -> None:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        elif 'VmHWM' in self.kind:
            self._reset_rss()

    def read_mib(self) -> float:
        if self.cuda:
            return torch.cuda.max_memory_allocated() / 2**20
        if 'VmHWM' in self.kind:
            return self._vm_hwm_kib() / 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # Linux reports KiB, macOS bytes.
        return peak / 2**20 if sys.platform == 'darwin' else peak / 1024


class SyntheticViews(Dataset):
    """``length`` samples cycling through ``pool`` random uint8 images, each
    shaped as the SSL pipeline's output (``MultiView`` then ``PackInputs``):
    ``dict(inputs=[view, ...], data_samples=DataSample())`` with views of
    shape (3, H, W).

    Args:
        length (int): Number of samples.
        pool (int): Number of distinct images.
        num_views (int): Views per image.
        size (Tuple[int, int]): Image height and width.
        seed (int): Seed of the random images.
    """

    metainfo: dict = {}

    def __init__(self, length: int, pool: int, num_views: int,
                 size: Tuple[int, int], seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.length = length
        self.images = torch.randint(0, 256, (pool, num_views, 3, *size),
                                    dtype=torch.uint8, generator=generator)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        views = self.images[index % len(self.images)]
        return dict(inputs=list(views.unbind(0)), data_samples=DataSample())


def stack_views(samples: List[dict]) -> List[Tensor]:
    """The plain loop's collate: one (N, 3, H, W) uint8 batch per view."""
    num_views = len(samples[0]['inputs'])
    return [torch.stack([s['inputs'][v] for s in samples])
            for v in range(num_views)]


class RunnerTimer(Hook):
    """Times the runner's training iterations (the mmseed path).

    Records the step-0 loss and, before training, a CPU copy of the
    initialised weights (for the plain loop to start from). After ``warmup``
    iterations it times ``iters`` iterations as a whole, then installs the
    section timers (``install``) and times each later iteration: from the end
    of the previous one (this hook runs last) to the start of this one is
    ``fetch`` (loading the batch, plus the loop's own work before the step:
    ``model.train()``, the other hooks' ``before_train_iter``); the rest comes
    from the wrapped methods.

    Args:
        clock (SectionClock): The clock the sections accumulate in.
        warmup (int): Untimed iterations.
        iters (int): Iterations timed as a whole.
        install (Callable): Wraps the model's methods in ``clock`` sections.
    """

    priority = 'LOWEST'

    def __init__(self, clock: SectionClock, warmup: int, iters: int,
                 install: Callable[[nn.Module], None]) -> None:
        self.clock = clock
        self.warmup = warmup
        self.iters = iters
        self.install = install
        self.snapshot: Optional[Dict[str, Tensor]] = None
        self.loss0: Optional[Tensor] = None
        self.elapsed: Optional[float] = None
        self._start = self._last = 0.0

    def before_train(self, runner) -> None:
        self.snapshot = {
            key: value.detach().to('cpu', copy=True)
            for key, value in runner.model.state_dict().items()
        }
        if self.warmup == 0:
            self._start = self.clock.now()

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if self.clock.active:
            self.clock.add('fetch', self.clock.now() - self._last)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        done = batch_idx + 1
        if batch_idx == 0:
            self.loss0 = outputs['loss'].detach().clone()
        if done == self.warmup:
            self._start = self.clock.now()
        elif done == self.warmup + self.iters:
            self.elapsed = self.clock.now() - self._start
            self.install(runner.model)
            self.clock.active = True
            self._last = self.clock.now()
        elif self.clock.active:
            now = self.clock.now()
            self.clock.add('iteration', now - self._last)
            self._last = now


def install_seed_sections(model: nn.Module, clock: SectionClock) -> None:
    """Time SEED's train step, pre-processing, teacher and queue update."""
    clock.wrap(model, 'train_step', 'train_step')
    clock.wrap(model.data_preprocessor, 'forward', 'preprocess')
    clock.wrap(model.teacher, 'forward', 'target')
    clock.wrap(model.queue, 'enqueue', 'queue')


def install_moco_sections(model: nn.Module, clock: SectionClock) -> None:
    """Time MoCo's train step, pre-processing, key encoder (momentum update
    and forward) and queue update."""
    clock.wrap(model, 'train_step', 'train_step')
    clock.wrap(model.data_preprocessor, 'forward', 'preprocess')
    # MoCoV2 fuses the momentum update; mmpretrain's MoCo calls the EMA's.
    clock.wrap(*((model, '_momentum_update')
                 if hasattr(model, '_momentum_update') else
                 (model.encoder_k, 'update_parameters')), 'target')
    clock.wrap(model.encoder_k, 'forward', 'target')
    clock.wrap(model, '_dequeue_and_enqueue', 'queue')


class PlainPreprocess:
    """What ``SelfSupDataPreprocessor`` computes, written out: to device,
    BGR to RGB, float, normalise (and channels-last if asked).

    Args:
        preprocessor (SelfSupDataPreprocessor): The built model's.
        to_rgb (bool): Whether it swaps the channels.
        device (torch.device): Where the batch goes.
        channels_last (bool): Convert the batch to channels-last.
    """

    def __init__(self, preprocessor: SelfSupDataPreprocessor, to_rgb: bool,
                 device: torch.device, channels_last: bool) -> None:
        self.normalize = hasattr(preprocessor, 'mean')
        if self.normalize:
            self.mean = preprocessor.mean.detach().clone().to(device)
            self.std = preprocessor.std.detach().clone().to(device)
        self.to_rgb = to_rgb
        self.device = device
        self.channels_last = channels_last

    def __call__(self, images: Tensor) -> Tensor:
        x = images.to(self.device)
        if self.to_rgb:
            x = x[:, [2, 1, 0], ...]
        x = x.float()
        if self.normalize:
            x = (x - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


def plain_optimizer(optim_cfg: ConfigDict,
                    params: List[nn.Parameter]) -> torch.optim.Optimizer:
    """The config's optimizer built directly from ``torch.optim``."""
    for key in ('paramwise_cfg', 'clip_grad', 'accumulative_counts'):
        if optim_cfg.get(key):
            raise ConfigError(f'the plain reference loop does not mirror '
                              f'optim_wrapper.{key}; benchmark without it')
    kwargs = dict(optim_cfg.optimizer)
    name = kwargs.pop('type')
    if not isinstance(name, str) or not hasattr(torch.optim, name):
        raise ConfigError(
            f'the plain reference loop builds torch.optim optimizers; the '
            f'config\'s optim_wrapper.optimizer is {name}')
    return getattr(torch.optim, name)(params, **kwargs)


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)


class PlainSEED:
    """One SEED training step in plain PyTorch, on a built model's modules.

    Teacher forward under ``inference_mode``; student forward,
    :func:`seed_loss` against the queue, backward, optimizer step; then the
    batch's normalised teacher embeddings replace the oldest queue entries.

    Args:
        model (nn.Module): The built (and initialised) SEED model.
        preprocess (PlainPreprocess): Batch to normalised device tensor.
        optimizer (torch.optim.Optimizer): Over the student's parameters.
        clock (SectionClock): Times the sections.
        amp (bool): bf16 autocast around the forwards.
    """

    def __init__(self, model: nn.Module, preprocess: PlainPreprocess,
                 optimizer: torch.optim.Optimizer, clock: SectionClock,
                 amp: bool) -> None:
        self.backbone, self.neck = model.backbone, model.neck
        self.teacher = model.teacher
        self.student_temp = model.loss_module.student_temp
        self.teacher_temp = model.loss_module.teacher_temp
        self.queue = model.queue.embeddings.detach().clone()
        self.ptr = int(model.queue.ptr)
        self.preprocess, self.optimizer = preprocess, optimizer
        self.clock = clock
        self.autocast = functools.partial(_autocast, preprocess.device, amp)
        self.backbone.train()
        self.neck.train()

    def teacher_embed(self, x: Tensor) -> Tensor:
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


class PlainMoCo:
    """One MoCo-v2 training step in plain PyTorch, on a built MoCo model's
    modules (the key encoder is ``model.encoder_k.module``).

    Key encoder momentum update and forward under ``no_grad``; query forward,
    InfoNCE against the queue, backward, optimizer step; then the keys replace
    the oldest queue entries. The key encoder starts as a copy of the query
    encoder, as mmpretrain's first momentum update makes it.

    Args:
        model (nn.Module): The built (and initialised) MoCo model.
        preprocess (PlainPreprocess): Batch to normalised device tensor.
        optimizer (torch.optim.Optimizer): Over the query encoder's
            parameters.
        clock (SectionClock): Times the sections.
        amp (bool): bf16 autocast around the forwards.
    """

    def __init__(self, model: nn.Module, preprocess: PlainPreprocess,
                 optimizer: torch.optim.Optimizer, clock: SectionClock,
                 amp: bool) -> None:
        self.backbone, self.neck = model.backbone, model.neck
        self.key = model.encoder_k.module
        self.momentum = model.encoder_k.momentum
        self.temperature = model.head.temperature
        self.query_params = [*self.backbone.parameters(),
                             *self.neck.parameters()]
        self.key_params = list(self.key.parameters())
        with torch.no_grad():
            for key, query in zip(self.key_params, self.query_params):
                key.copy_(query)
        self.queue = model.queue.detach().clone()  # (D, K)
        self.ptr = int(model.queue_ptr)
        self.preprocess, self.optimizer = preprocess, optimizer
        self.clock = clock
        self.autocast = functools.partial(_autocast, preprocess.device, amp)
        self.labels: Optional[Tensor] = None
        for module in (self.backbone, self.neck, self.key):
            module.train()

    def __call__(self, batches: Iterator[List[Tensor]]) -> Tensor:
        section = self.clock.section
        with section('data'):
            im_q, im_k = (self.preprocess(v) for v in next(batches))
        with section('target'), torch.no_grad():
            # key = (1 - momentum) * key + momentum * query
            torch._foreach_mul_(self.key_params, 1 - self.momentum)
            torch._foreach_add_(self.key_params, self.query_params,
                                alpha=self.momentum)
            with self.autocast():
                k = F.normalize(self.key(im_k)[0], dim=1)
        with section('student'):
            with self.autocast():
                q = F.normalize(self.neck(self.backbone(im_q))[0], dim=1)
                pos = torch.einsum('nc,nc->n', q, k).unsqueeze(-1)
                neg = torch.einsum('nc,ck->nk', q, self.queue)
                logits = torch.cat((pos, neg), dim=1) / self.temperature
                if self.labels is None or len(self.labels) != len(q):
                    self.labels = torch.zeros(len(q), dtype=torch.long,
                                              device=q.device)
                loss = F.cross_entropy(logits, self.labels)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        with section('queue'), torch.no_grad():
            count = k.shape[0]
            self.queue[:, self.ptr:self.ptr + count] = k.T
            self.ptr = (self.ptr + count) % self.queue.shape[1]
        return loss.detach()


def _type_name(module_cfg: dict) -> str:
    name = module_cfg.get('type', '')
    return name.split('.')[-1] if isinstance(name, str) else name.__name__


def method_model(cfg: Config, method: str) -> ConfigDict:
    """The model config a method is timed with.

    ``seed``: the config's SEED model, with a teacher that needs no
    checkpoint. ``moco``: the config's model if it is MoCo, else mmseed's
    MoCoV2 with the SEED config's student (backbone, neck), queue length,
    embedding width and data pre-processor.
    """
    model = ConfigDict(cfg.model.to_dict())
    kind = _type_name(model)
    if method == 'seed':
        if kind != 'SEED':
            raise ConfigError(f'--method seed needs a SEED config; '
                              f'model.type is {kind} (use --method moco)')
        if model.get('num_patches', 0):
            raise ConfigError('the plain reference loop does not implement '
                              'SEED\'s small-patch variant (num_patches > 0)')
        if _type_name(model.teacher.get('neck') or {}) == 'SwAVNeck':
            raise ConfigError('the plain reference loop does not implement '
                              'SwAV teacher necks')
        model.teacher.checkpoint = None
        return model
    if kind in ('MoCo', 'MoCoV2'):
        return model
    if kind != 'SEED':
        raise ConfigError(f'--method moco needs a SEED or MoCo config; '
                          f'model.type is {kind}')
    return ConfigDict(
        type='MoCoV2',
        queue_len=model.get('queue_len', 65536),
        feat_dim=model.get('feat_dim', 128),
        momentum=MOCO_MOMENTUM,
        data_preprocessor=model.get('data_preprocessor'),
        backbone=model.backbone,
        neck=model.neck,
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=MOCO_TEMPERATURE))


def crop_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """(H, W) of the first ``RandomResizedCrop`` in the train pipeline."""
    def find(node):
        if isinstance(node, dict):
            if _type_name(node).endswith('RandomResizedCrop'):
                return node.get('scale')
            values = node.values()
        elif isinstance(node, (list, tuple)):
            values = node
        else:
            return None
        for value in values:
            found = find(value)
            if found is not None:
                return found
        return None

    scale = find(cfg.get('train_dataloader', {}).get('dataset', {}))
    if isinstance(scale, int):
        return scale, scale
    if isinstance(scale, (list, tuple)) and len(scale) == 2:
        return tuple(scale)  # mmpretrain's RandomResizedCrop: (h, w)
    return None


def use_random_teacher(model: nn.Module) -> None:
    """Give the SEED teacher random weights instead of its checkpoint.

    The teacher's modules get their own initialisation (e.g. Kaiming for a
    ResNet); the teacher is then marked initialised, the flag mmengine's
    ``init_weights`` checks, so the runner does not ask for the checkpoint.
    """
    for child in model.teacher.children():
        if hasattr(child, 'init_weights'):
            child.init_weights()
    model.teacher._is_init = True


def _split(totals: Dict[str, float], count: int,
           framework: bool) -> Optional[Dict[str, float]]:
    """Mean milliseconds per section over ``count`` iterations."""
    if count == 0:
        return None
    ms = defaultdict(float, {key: value * 1e3 / count
                             for key, value in totals.items()})
    if framework:
        nested = ms['preprocess'] + ms['target'] + ms['queue']
        split = dict(data=ms['fetch'] + ms['preprocess'], target=ms['target'],
                     student=ms['train_step'] - nested, queue=ms['queue'])
    else:
        split = {key: ms[key] for key in ('data', 'target', 'student',
                                          'queue')}
    split['other'] = ms['iteration'] - sum(split.values())
    return split


def _result(method: str, path: str, driver: str, batch: int, iters: int,
            elapsed: float, split: Optional[dict], peak_mib: float,
            loss0: Tensor) -> dict:
    if split is not None:
        split = {(TARGET_SECTION[method] if key == 'target' else key):
                 split[key] for key in SPLIT_KEYS}
    return dict(
        method=method,
        path=path,
        driver=driver,
        images_per_s=batch * iters / elapsed,
        step_ms=elapsed * 1e3 / iters,
        split_ms=split,
        split_step_ms=None if split is None else sum(split.values()),
        peak_memory_mib=peak_mib,
        loss_step0=float(loss0))


def _combine(runs: List[dict]) -> dict:
    """One path's result over its rounds: median images/s (and the step
    time it implies), mean section times, the highest peak memory."""
    result = dict(runs[0])
    speeds = [r['images_per_s'] for r in runs]
    result['images_per_s'] = statistics.median(speeds)
    result['step_ms'] = runs[0]['step_ms'] * speeds[0] / result['images_per_s']
    result['rounds_images_per_s'] = speeds
    result['rounds_loss_step0'] = [r['loss_step0'] for r in runs]
    if runs[0]['split_ms'] is not None:
        result['split_ms'] = {key: statistics.fmean(r['split_ms'][key]
                                                    for r in runs)
                              for key in runs[0]['split_ms']}
        result['split_step_ms'] = sum(result['split_ms'].values())
    result['peak_memory_mib'] = max(r['peak_memory_mib'] for r in runs)
    return result


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def run_mmseed(cfg: Config, method: str, model_cfg: ConfigDict,
               dataset: SyntheticViews, args: argparse.Namespace,
               memory: PeakMemory) -> Tuple[dict, nn.Module, dict]:
    """Train ``model_cfg`` with mmengine's Runner on ``dataset``.

    Returns:
        Tuple[dict, nn.Module, dict]: The result, the trained model, and its
        weights as they were before the first step.
    """
    device = torch.device(args.device)
    clock = SectionClock(device)
    install = dict(seed=install_seed_sections, moco=install_moco_sections)
    timer = RunnerTimer(clock, args.warmup, args.iters,
                        functools.partial(install[method], clock=clock))
    loader = ConfigDict(cfg.train_dataloader.to_dict())
    loader.update(
        dataset=dataset, batch_size=args.batch_size, num_workers=args.workers,
        persistent_workers=False, drop_last=True,
        sampler=dict(type='DefaultSampler', shuffle=False))
    optim_wrapper = ConfigDict(cfg.optim_wrapper.to_dict())
    if args.amp == 'bf16':
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.dtype = 'bfloat16'
    hooks = copy.deepcopy(cfg.get('default_hooks', ConfigDict()))
    hooks.checkpoint = None  # no files; real runs save every few epochs
    env_cfg = copy.deepcopy(cfg.get('env_cfg', ConfigDict()))
    env_cfg.cudnn_benchmark = (args.cudnn_benchmark
                               or env_cfg.get('cudnn_benchmark', False))

    memory.reset()
    with tempfile.TemporaryDirectory(prefix='mmseed_bench_',
                                     ignore_cleanup_errors=True) as work_dir:
        runner = Runner(
            model=model_cfg,
            work_dir=work_dir,
            experiment_name=f'throughput_{method}',
            train_dataloader=loader,
            train_cfg=dict(type='IterBasedTrainLoop',
                           max_iters=args.warmup + args.iters +
                           args.split_iters),
            optim_wrapper=optim_wrapper,
            # Copies: the runner writes into these dicts (e.g. names).
            param_scheduler=copy.deepcopy(cfg.get('param_scheduler')),
            default_hooks=hooks,
            custom_hooks=[*copy.deepcopy(cfg.get('custom_hooks', [])), timer],
            env_cfg=env_cfg,
            log_processor=copy.deepcopy(cfg.get('log_processor')),
            log_level='WARNING',
            visualizer=copy.deepcopy(cfg.get('visualizer')),
            default_scope=cfg.get('default_scope', 'mmseed'),
            randomness=dict(seed=args.seed))
        model = runner.model
        if method == 'seed':
            use_random_teacher(model)
        if args.channels_last:
            # mmengine has no config switch for the memory format.
            model.to(memory_format=torch.channels_last)
        runner.train()
        peak = memory.read_mib()
        runner.optim_wrapper.optimizer.state.clear()
    clock.unwrap()
    del runner
    _release(device)
    result = _result(method, 'mmseed', 'mmengine Runner, IterBasedTrainLoop',
                     args.batch_size, args.iters, timer.elapsed,
                     _split(clock.totals, args.split_iters, framework=True),
                     peak, timer.loss0)
    return result, model, timer.snapshot


def run_plain(method: str, model: nn.Module, snapshot: dict,
              model_cfg: ConfigDict, cfg: Config, dataset: SyntheticViews,
              args: argparse.Namespace, memory: PeakMemory) -> dict:
    """Train the modules of ``model``, reset to ``snapshot``, with a plain
    PyTorch loop on ``dataset``."""
    device = torch.device(args.device)
    model.load_state_dict(snapshot)
    del snapshot
    _release(device)
    memory.reset()
    clock = SectionClock(device)
    pre_cfg = model_cfg.get('data_preprocessor') or {}
    if not isinstance(model.data_preprocessor, SelfSupDataPreprocessor):
        raise ConfigError('the plain reference loop mirrors '
                          'SelfSupDataPreprocessor; the model has '
                          f'{type(model.data_preprocessor).__name__}')
    to_rgb = any(pre_cfg.get(key, False)
                 for key in ('to_rgb', 'bgr_to_rgb', 'rgb_to_bgr'))
    preprocess = PlainPreprocess(model.data_preprocessor, to_rgb, device,
                                 args.channels_last)
    params = [*model.backbone.parameters(), *model.neck.parameters()]
    optimizer = plain_optimizer(cfg.optim_wrapper, params)
    step_cls = dict(seed=PlainSEED, moco=PlainMoCo)[method]
    step = step_cls(model, preprocess, optimizer, clock, args.amp == 'bf16')
    batches = iter(
        DataLoader(dataset, batch_size=args.batch_size, shuffle=False,
                   num_workers=args.workers, collate_fn=stack_views,
                   pin_memory=cfg.train_dataloader.get('pin_memory', False),
                   drop_last=True))

    loss0 = None
    for _ in range(args.warmup):
        loss = step(batches)
        loss0 = loss if loss0 is None else loss0
    start = clock.now()
    for _ in range(args.iters):
        loss = step(batches)
        loss0 = loss if loss0 is None else loss0
    elapsed = clock.now() - start
    clock.active = True
    for _ in range(args.split_iters):
        begin = clock.now()
        step(batches)
        clock.add('iteration', clock.now() - begin)
    peak = memory.read_mib()
    del step, optimizer, batches
    _release(device)
    return _result(method, 'plain', 'plain PyTorch loop', args.batch_size,
                   args.iters, elapsed,
                   _split(clock.totals, args.split_iters, framework=False),
                   peak, loss0)


def _check_args(args: argparse.Namespace, cfg: Config) -> None:
    if args.split_iters is None:
        args.split_iters = args.iters
    if (args.iters < 1 or args.repeats < 1 or args.warmup < 0
            or args.split_iters < 0):
        raise ConfigError('--iters and --repeats must be at least 1, '
                          '--warmup and --split-iters at least 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise ConfigError('--device cuda but CUDA is not available; use '
                          '--device cpu')
    if args.amp == 'bf16' and args.device != 'cuda':
        raise ConfigError('--amp bf16 needs --device cuda: mmengine\'s '
                          'AmpOptimWrapper runs on accelerators only')
    if args.batch_size is None:
        args.batch_size = cfg.get('train_dataloader', {}).get('batch_size')
    if not args.batch_size or args.batch_size < 1:
        raise ConfigError('set a positive --batch-size (the config has no '
                          'train_dataloader.batch_size)')
    if args.image_size is not None:
        args.size = (args.image_size, args.image_size)
    else:
        args.size = crop_size(cfg)
        if args.size is None:
            raise ConfigError('no RandomResizedCrop in the config\'s train '
                              'pipeline to take the image size from; set '
                              '--image-size')
    if 'seed' in args.method:
        queue_len = method_model(cfg, 'seed').get('queue_len', 65536)
        if queue_len < args.batch_size:
            raise ConfigError(f'SEED\'s queue ({queue_len}) must hold at '
                              f'least one batch; got --batch-size '
                              f'{args.batch_size}')
    if 'moco' in args.method:
        queue_len = method_model(cfg, 'moco').get('queue_len', 65536)
        if queue_len % args.batch_size:
            raise ConfigError(f'MoCo needs a batch size that divides its '
                              f'queue length {queue_len}; got '
                              f'--batch-size {args.batch_size}')


def benchmark(cfg: Config, args: argparse.Namespace) -> dict:
    """Time every method in ``args.method`` on both paths.

    Returns:
        dict: The report: machine, settings, results (one per method and
        path), mmseed/plain images/s ratios, and the SEED/MoCo step-time
        ratio of each path when both methods ran.
    """
    _check_args(args, cfg)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    memory = PeakMemory(device)
    results, ratios, rounds, loss_gaps = [], {}, {}, {}
    total_iters = args.warmup + args.iters + args.split_iters
    for method in args.method:
        print(f'timing {method}: mmseed and plain, {args.repeats} round(s)'
              ' ...', file=sys.stderr, flush=True)
        model_cfg = method_model(cfg, method)
        # One batch more than the steps: the epoch does not end inside the
        # timed steps, so mmengine's end-of-epoch log (whose first call sets
        # up the visualizer's writers, ~0.1 s) is not timed as a step.
        dataset = SyntheticViews(
            length=args.batch_size * (total_iters + 1), pool=args.batch_size,
            num_views=2 if method == 'moco' else 1, size=args.size,
            seed=args.seed)
        framework_runs, plain_runs = [], []
        model = snapshot = None
        for round_ in range(args.repeats):
            # Alternate which path goes first, so a drift in the machine's
            # speed does not favour one of them.
            plain_first = round_ % 2 == 1
            if plain_first:
                plain_runs.append(run_plain(method, model, snapshot,
                                            model_cfg, cfg, dataset, args,
                                            memory))
            del model
            _release(device)
            framework, model, snapshot = run_mmseed(cfg, method, model_cfg,
                                                    dataset, args, memory)
            framework_runs.append(framework)
            if not plain_first:
                plain_runs.append(run_plain(method, model, snapshot,
                                            model_cfg, cfg, dataset, args,
                                            memory))
        del model, snapshot, dataset
        _release(device)
        results += [_combine(framework_runs), _combine(plain_runs)]
        rounds[method] = [f['images_per_s'] / p['images_per_s']
                          for f, p in zip(framework_runs, plain_runs)]
        ratios[method] = statistics.median(rounds[method])
        loss_gaps[method] = abs(framework_runs[0]['loss_step0'] -
                                plain_runs[0]['loss_step0'])
    report = dict(
        machine=machine_info(),
        settings=dict(
            config=args.config, methods=args.method, device=args.device,
            batch_size=args.batch_size, image_size=list(args.size),
            warmup=args.warmup, iters=args.iters, repeats=args.repeats,
            split_iters=args.split_iters, amp=args.amp,
            channels_last=args.channels_last,
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            # fp32 runs use TF32 where torch's defaults allow it.
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            tf32_cudnn=torch.backends.cudnn.allow_tf32,
            workers=args.workers, seed=args.seed,
            memory=memory.kind,
            notes=[
                'inputs: synthetic uint8 images at the crop size, through '
                'each path\'s DataLoader (mmseed: the config\'s collate); '
                'augmentation is not included (see data_throughput.py)',
                'teacher: random weights (no checkpoint)',
                'images/s counts images; MoCo sees 2 views of each',
                'mmseed MoCo: mmpretrain\'s batch shuffle and the key '
                'normalisation count as student time',
                'bf16: mmseed uses AmpOptimWrapper (mmengine always adds a '
                'dynamic GradScaler); the plain loop uses autocast alone',
                'channels-last: mmseed converts the built model (no config '
                'switch); the plain loop also converts its inputs',
            ]),
        results=results,
        ratio_mmseed_over_plain=ratios,
        ratio_mmseed_over_plain_rounds=rounds,
        loss_step0_abs_diff=loss_gaps)
    if len(args.method) == 2:
        step = {(r['method'], r['path']): r['step_ms'] for r in results}
        report['seed_step_over_moco_step'] = {
            path: step['seed', path] / step['moco', path]
            for path in ('mmseed', 'plain')
        }
    return report


def report_table(report: dict) -> str:
    """The results as a Markdown table, one row per method and path."""
    settings = report['settings']
    precision = 'bf16' if settings['amp'] == 'bf16' else 'fp32'
    if settings['channels_last']:
        precision += ', channels-last'
    header = ['config', 'method', 'path', 'device', 'batch', 'precision',
              'images/s', 'mmseed/plain', 'step ms', 'data ms',
              'teacher / key enc. ms', 'student fwd+bwd+opt ms', 'queue ms',
              'other ms', 'peak MiB']
    device = report['machine']['gpu'] if settings['device'] == 'cuda' \
        else report['machine']['cpu']
    rows = []
    for r in report['results']:
        split = r['split_ms'] or {}
        target = split.get(TARGET_SECTION[r['method']])
        ratio = (report['ratio_mmseed_over_plain'][r['method']]
                 if r['path'] == 'mmseed' else None)
        rows.append([
            Path(settings['config']).stem, r['method'], r['path'], device,
            settings['batch_size'], precision, r['images_per_s'], ratio,
            r['step_ms'], split.get('data'), target, split.get('student'),
            split.get('queue'), split.get('other'), r['peak_memory_mib']])
    return markdown_table(header, rows)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.device == 'cpu' and torch.cuda.is_available():
        # mmengine's runner puts the model on the GPU whenever it sees one:
        # hide the GPUs (run again as a script, or ask for it).
        if argv is not None:
            raise ConfigError('--device cpu on a machine with CUDA: set '
                              'CUDA_VISIBLE_DEVICES= in the environment')
        env = dict(os.environ, CUDA_VISIBLE_DEVICES='')
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    register_all_modules(init_default_scope=False)
    if not os.path.isfile(args.config):
        raise ConfigError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    report = benchmark(cfg, args)
    out = args.out or (f'work_dirs/benchmarks/throughput_'
                       f'{Path(args.config).stem}_{args.device}.json')
    print(report_table(report))
    for method, rounds in report['ratio_mmseed_over_plain_rounds'].items():
        if len(rounds) > 1:
            print(f'{method}: mmseed/plain per round: '
                  + ', '.join(f'{r:.3f}' for r in rounds))
    for method, gap in report['loss_step0_abs_diff'].items():
        print(f'{method}: step-0 loss |mmseed - plain| = {gap:.3g}')
    for path, ratio in report.get('seed_step_over_moco_step', {}).items():
        print(f'{path}: SEED step time / MoCo-v2 step time = {ratio:.3g}')
    print(f'peak memory: {report["settings"]["memory"]}')
    print(f'report written to {write_json(report, out)}')


if __name__ == '__main__':
    run_with_clear_errors(main)
