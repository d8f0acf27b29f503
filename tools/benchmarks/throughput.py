"""Training throughput of mmseed against a plain PyTorch loop, in one run.

``python tools/benchmarks/throughput.py CONFIG [--method NAME [NAME ...]]
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
* **plain**: a hand-written PyTorch step of the same computation on the same
  modules (taken from the built model, reset to the weights the mmseed path
  started from), with the same optimizer and hyper-parameters.

This file is the shared part: arguments, synthetic data, the clocks, both
paths' loops, repeats and the report. What is particular to a method lives in
its module ``reference_steps/NAME.py`` (``--method NAME``): the model it
times (built from the config), its plain step, the sections of its model to
time and its notes; ``reference_steps/__init__.py`` describes that interface.
The methods are the modules found there; ``--method`` defaults to those whose
model types include the config's.

Each path runs ``--warmup`` untimed steps, ``--iters`` steps timed as a whole
(images/s), then ``--split-iters`` steps timed section by section (on CUDA with
a synchronisation around each section, which is why they are separate): data
(loading the batch, to device, pre-processing) / target (the method's target
network: e.g. a frozen teacher's forward, or a momentum encoder's update and
forward; a method without one says what it times there; the report names it
after the method) / student forward, backward and optimizer step / queue
update / other (the rest of the iteration: hooks, logging).

With ``--repeats R`` both paths run R times, the first path alternating
(mmseed, plain, mmseed, ...), so a slow drift in the machine's speed (a shared
machine's neighbours) does not favour either. Images/s are the medians over
the rounds, and mmseed/plain is the median of the rounds' paired ratios; the
report keeps every round's numbers.

With ``--interleave`` the plain step runs inside the mmseed run, one plain
step after each mmseed step (on its own copy of the model, from the same
weights), and each path's images/s come from its own steps of the same
minutes: a paired design, for machines whose speed drifts within a round
(its rounds then need ``--split-iters 0``; the split comes from a run
without it).

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
from types import ModuleType
from typing import Callable, Dict, Iterator, List, Optional, Tuple

# First: mmseed's compatibility fixes include the warning filters that must
# be in place before mmpretrain imports mmcv's modules.
import mmseed  # noqa: F401,I001
import numpy as np
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner
from mmpretrain.models.utils import (ClsDataPreprocessor,
                                     SelfSupDataPreprocessor)
from mmpretrain.structures import DataSample
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from mmseed.errors import ConfigError
from mmseed.utils import register_all_modules
from mmseed.utils.cli import run_with_clear_errors
from mmseed.utils.config_check import check_model_config
from mmseed.utils.cpu_memory import KEEP_FREED_MEMORY_ENV, keep_freed_memory

from bench_utils import machine_info, markdown_table, type_name, write_json
from reference_steps import available_methods, load_method

__all__ = [
    'SectionClock', 'PeakMemory', 'SyntheticViews', 'RunnerTimer',
    'PlainPreprocess', 'wrapper_configs', 'plain_optimizer', 'method_model',
    'benchmark', 'main'
]

SPLIT_KEYS = ('data', 'target', 'student', 'queue', 'other')
PATHS = ('mmseed', 'plain')
_MISSING = object()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Training images/s of mmseed against a plain PyTorch '
        'loop of the same computation')
    parser.add_argument('config', help='a config file')
    parser.add_argument(
        '--method', nargs='+', choices=available_methods(),
        help='the reference steps to time (tools/benchmarks/reference_steps;'
        ' default: those of the config\'s model type)')
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
    parser.add_argument('--interleave', action='store_true',
                        help='run a plain step after each mmseed step in '
                        'the same run (paired steps; needs --split-iters 0)')
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
        self._wrapped: List[Tuple[object, str, Callable, object]] = []

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

        before = vars(owner).get(attr, _MISSING)  # a patch it shadows
        setattr(owner, attr, timed)
        self._wrapped.append((owner, attr, timed, before))

    def unwrap(self) -> None:
        """Remove every wrapper: what ``owner.attr`` was before is seen
        again. A wrapper something else already removed (e.g. a hook that
        patched the same method and undid its patch) is left alone."""
        for owner, attr, timed, before in reversed(self._wrapped):
            if vars(owner).get(attr) is not timed:
                continue
            if before is not _MISSING:
                setattr(owner, attr, before)
            else:
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
    ``dict(inputs=[view, ...], data_samples=DataSample(...))`` with views of
    shape (3, H, W); with ``num_views=0``, a classification pipeline's:
    ``inputs`` is one (3, H, W) image. Sample ``i`` has ``sample_idx`` i and
    label ``i % num_classes``, as a real dataset's samples do.

    Args:
        length (int): Number of samples.
        pool (int): Number of distinct images.
        num_views (int): Views per image; 0 for one image, not a list.
        size (Tuple[int, int]): Image height and width.
        seed (int): Seed of the random images.
        num_classes (int): Number of labels. Defaults to 10.
        sizes (List[Tuple[int, int]], optional): (H, W) of each view, for
            views of several sizes (multi-crop); overrides ``num_views`` and
            ``size``.
    """

    metainfo: dict = {}

    def __init__(self, length: int, pool: int, num_views: int,
                 size: Tuple[int, int], seed: int = 0,
                 num_classes: int = 10,
                 sizes: Optional[List[Tuple[int, int]]] = None) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.length = length
        self.num_classes = num_classes
        self.single = num_views == 0 and not sizes
        sizes = sizes or [size] * max(num_views, 1)
        # One (pool, 3, H, W) tensor per view: views may differ in size.
        self.images = [torch.randint(0, 256, (pool, 3, *hw),
                                     dtype=torch.uint8, generator=generator)
                       for hw in sizes]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        views = [images[index % len(images)] for images in self.images]
        inputs = views[0] if self.single else views
        sample = DataSample(sample_idx=index)
        return dict(inputs=inputs,
                    data_samples=sample.set_gt_label(index % self.num_classes))

    def get_gt_labels(self) -> np.ndarray:
        """Every sample's label, as mmpretrain's datasets give them."""
        return np.arange(self.length) % self.num_classes


def stack_views(samples: List[dict]) -> List[Tensor]:
    """The plain loop's collate: one (N, 3, H, W) uint8 batch per view (one
    batch for single images)."""
    if isinstance(samples[0]['inputs'], Tensor):
        return [torch.stack([s['inputs'] for s in samples])]
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
        install (Callable): Wraps the model's (and the optim wrapper's)
            methods in ``clock`` sections; called with both.
        partner (Callable, optional): With ``--interleave``: called with the
            model before training (at its initial weights), returns the
            plain step to run (and time apart) after each warm-up and timed
            mmseed step.
    """

    priority = 'LOWEST'

    def __init__(self, clock: SectionClock, warmup: int, iters: int,
                 install: Callable[[nn.Module, OptimWrapper], None],
                 partner: Optional[Callable] = None) -> None:
        self.clock = clock
        self.warmup = warmup
        self.iters = iters
        self.install = install
        self.make_partner = partner
        self.partner: Optional[Callable[[], Tensor]] = None
        self.snapshot: Optional[Dict[str, Tensor]] = None
        self.loss0: Optional[Tensor] = None
        self.partner_loss0: Optional[Tensor] = None
        self.elapsed: Optional[float] = None
        self.partner_elapsed = 0.0
        self._start = self._last = 0.0

    def before_train(self, runner) -> None:
        self.snapshot = {
            key: value.detach().to('cpu', copy=True)
            for key, value in runner.model.state_dict().items()
        }
        if self.make_partner is not None:
            self.partner = self.make_partner(runner.model)
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
        if self.partner is not None and done <= self.warmup + self.iters:
            end = self.clock.now()
            loss = self.partner()
            if batch_idx == 0:
                self.partner_loss0 = loss
            if done > self.warmup:
                self.partner_elapsed += self.clock.now() - end
        if done == self.warmup:
            self._start = self.clock.now()
        elif done == self.warmup + self.iters:
            self.elapsed = (self.clock.now() - self._start -
                            self.partner_elapsed)
            self.install(runner.model, runner.optim_wrapper)
            self.clock.active = True
            self._last = self.clock.now()
        elif self.clock.active:
            now = self.clock.now()
            self.clock.add('iteration', now - self._last)
            self._last = now


def install_sections(model: nn.Module, optim_wrapper: OptimWrapper,
                     clock: SectionClock, method: ModuleType) -> None:
    """Time the model's train step and data pre-processing, then the
    method's own sections (its target network and queue update), and those
    of the optim wrapper if the method has ``install_optim_sections``."""
    clock.wrap(model, 'train_step', 'train_step')
    clock.wrap(model.data_preprocessor, 'forward', 'preprocess')
    method.install_sections(model, clock)
    if hasattr(method, 'install_optim_sections'):
        method.install_optim_sections(optim_wrapper, clock)


class PlainPreprocess:
    """What ``SelfSupDataPreprocessor`` (and, without batch augmentation,
    ``ClsDataPreprocessor``) computes, written out: to device, BGR to RGB,
    float, normalise (and channels-last if asked).

    Args:
        preprocessor (SelfSupDataPreprocessor | ClsDataPreprocessor): The
            built model's.
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


def wrapper_configs(optim_cfg: ConfigDict) -> Dict[str, ConfigDict]:
    """The optimizer wrappers an ``optim_wrapper`` config builds, by key
    (``''`` for the config itself): the config if it has an optimizer, else
    its entries that do (a constructor with one wrapper per sub-module, e.g.
    ``optim_wrapper.<child> = dict(optimizer=...)``)."""
    if 'optimizer' in optim_cfg:
        return {'': optim_cfg}
    return {key: value for key, value in optim_cfg.items()
            if isinstance(value, dict) and 'optimizer' in value}


def plain_optimizer(optim_cfg: ConfigDict, params: List[nn.Parameter],
                    name: Optional[str] = None) -> torch.optim.Optimizer:
    """The config's optimizer built directly from its class (``torch.optim``
    or a registered one such as LARS), without a wrapper.

    Args:
        optim_cfg (ConfigDict): The config's ``optim_wrapper``.
        params (List[nn.Parameter]): The parameters it trains.
        name (str, optional): For a config with one wrapper per sub-module,
            the entry to build (``optim_wrapper.<name>``).
    """
    key = 'optim_wrapper' if name is None else f'optim_wrapper.{name}'
    if name is not None:
        optim_cfg = optim_cfg.get(name)
    if not isinstance(optim_cfg, dict) or 'optimizer' not in optim_cfg:
        raise ConfigError(f'the plain reference loop needs {key}.optimizer; '
                          f'the config has none')
    for option in ('paramwise_cfg', 'clip_grad', 'accumulative_counts'):
        if optim_cfg.get(option):
            raise ConfigError(f'the plain reference loop does not mirror '
                              f'{key}.{option}; benchmark without it')
    kwargs = dict(optim_cfg['optimizer'])
    kind = kwargs.pop('type')
    if isinstance(kind, str) and hasattr(torch.optim, kind):
        return getattr(torch.optim, kind)(params, **kwargs)
    # Another optimizer class (e.g. LARS): the same class, built directly
    # (no wrapper), so both paths run the same update.
    from mmseed.registry import OPTIMIZERS
    optimizer = OPTIMIZERS.get(kind) if isinstance(kind, str) else kind
    if not (isinstance(optimizer, type)
            and issubclass(optimizer, torch.optim.Optimizer)):
        raise ConfigError(
            f'the plain reference loop builds optimizer classes; the '
            f'config\'s {key}.optimizer is {kind}')
    return optimizer(params, **kwargs)


def method_model(cfg: Config, name: str) -> ConfigDict:
    """The model config method ``name`` is timed with (its
    ``model_config``)."""
    return load_method(name).model_config(cfg)


def num_classes(cfg: Config) -> int:
    """The number of labels of the synthetic samples: ``num_classes`` of the
    model's data pre-processor or head, else 10."""
    model = cfg.get('model') or {}
    for node in (model.get('data_preprocessor'), model.get('head')):
        if isinstance(node, dict) and isinstance(node.get('num_classes'),
                                                 int):
            return node['num_classes']
    return 10


def crop_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """(H, W) of the first ``RandomResizedCrop`` in the train pipeline, or
    of a ``MultiViewGroups`` whose view groups share one ``size``."""
    def find(node):
        if isinstance(node, dict):
            if type_name(node).endswith('RandomResizedCrop'):
                return node.get('scale')
            if type_name(node).endswith('MultiViewGroups'):
                sizes = [group.get('size') for group in node.get('views', [])
                         if isinstance(group, dict)]
                same = sizes and all(size == sizes[0] for size in sizes)
                return sizes[0] if same else None
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


def _result(method: str, target: str, path: str, driver: str, batch: int,
            iters: int, elapsed: float, split: Optional[dict],
            peak_mib: float, loss0: Tensor) -> dict:
    if split is not None:
        # The target network's section takes the method's name for it.
        split = {(target if key == 'target' else key): split[key]
                 for key in SPLIT_KEYS}
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


def run_mmseed(cfg: Config, name: str, model_cfg: ConfigDict,
               dataset: SyntheticViews, args: argparse.Namespace,
               memory: PeakMemory
               ) -> Tuple[dict, nn.Module, dict, Optional[dict]]:
    """Train ``model_cfg`` with mmengine's Runner on ``dataset`` (with
    ``--interleave``, and the plain step on a copy of the model between its
    steps).

    Returns:
        Tuple[dict, nn.Module, dict, dict | None]: The result, the trained
        model, its weights as they were before the first step, and the
        interleaved plain steps' result (None without ``--interleave``).
    """
    method = load_method(name)
    device = torch.device(args.device)
    clock = SectionClock(device)

    def partner(model: nn.Module) -> Callable[[], Tensor]:
        twin = copy.deepcopy(model)  # at the snapshot's weights
        return plain_step(name, twin, model_cfg, cfg, dataset, args,
                          SectionClock(device))

    timer = RunnerTimer(
        clock, args.warmup, args.iters,
        functools.partial(install_sections, clock=clock, method=method),
        partner if args.interleave else None)
    loader = ConfigDict(cfg.train_dataloader.to_dict())
    loader.update(
        dataset=dataset, batch_size=args.batch_size, num_workers=args.workers,
        persistent_workers=False, drop_last=True,
        sampler=dict(type='DefaultSampler', shuffle=False))
    optim_wrapper = ConfigDict(cfg.optim_wrapper.to_dict())
    if args.amp == 'bf16':
        for wrapper in wrapper_configs(optim_wrapper).values():
            wrapper.type = 'AmpOptimWrapper'
            wrapper.dtype = 'bfloat16'
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
            experiment_name=f'throughput_{name}',
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
        method.prepare(model)
        if args.channels_last:
            # mmengine has no config switch for the memory format.
            model.to(memory_format=torch.channels_last)
        runner.train()
        peak = memory.read_mib()
        wrappers = runner.optim_wrapper
        for wrapper in (wrappers.values()
                        if isinstance(wrappers, OptimWrapperDict) else
                        [wrappers]):
            wrapper.optimizer.state.clear()
    clock.unwrap()
    del runner
    _release(device)
    result = _result(name, method.TARGET, 'mmseed',
                     'mmengine Runner, IterBasedTrainLoop', args.batch_size,
                     args.iters, timer.elapsed,
                     _split(clock.totals, args.split_iters, framework=True),
                     peak, timer.loss0)
    plain = None
    if args.interleave:
        timer.partner = None
        plain = _result(name, method.TARGET, 'plain',
                        'plain PyTorch loop, interleaved', args.batch_size,
                        args.iters, timer.partner_elapsed, None, peak,
                        timer.partner_loss0)
        _release(device)
    return result, model, timer.snapshot, plain


def plain_step(name: str, model: nn.Module, model_cfg: ConfigDict,
               cfg: Config, dataset: SyntheticViews,
               args: argparse.Namespace, clock: SectionClock
               ) -> Callable[[], Tensor]:
    """The method's plain step on the modules of ``model`` (as they are),
    bound to its own loader over ``dataset``: each call trains one batch."""
    method = load_method(name)
    device = torch.device(args.device)
    pre_cfg = model_cfg.get('data_preprocessor') or {}
    known = (SelfSupDataPreprocessor, ClsDataPreprocessor)
    if not isinstance(model.data_preprocessor, known) or getattr(
            model.data_preprocessor, 'batch_augments', None) is not None:
        raise ConfigError('the plain reference loop mirrors '
                          'SelfSupDataPreprocessor and ClsDataPreprocessor '
                          'without batch augments; the model has '
                          f'{type(model.data_preprocessor).__name__}')
    to_rgb = any(pre_cfg.get(key, False)
                 for key in ('to_rgb', 'bgr_to_rgb', 'rgb_to_bgr'))
    preprocess = PlainPreprocess(model.data_preprocessor, to_rgb, device,
                                 args.channels_last)
    step = method.PlainStep(
        model, preprocess,
        functools.partial(plain_optimizer, cfg.optim_wrapper), clock,
        functools.partial(torch.autocast, device.type, dtype=torch.bfloat16,
                          enabled=args.amp == 'bf16'))
    batches = iter(
        DataLoader(dataset, batch_size=args.batch_size, shuffle=False,
                   num_workers=args.workers, collate_fn=stack_views,
                   pin_memory=cfg.train_dataloader.get('pin_memory', False),
                   drop_last=True))
    return functools.partial(step, batches)


def run_plain(name: str, model: nn.Module, snapshot: dict,
              model_cfg: ConfigDict, cfg: Config, dataset: SyntheticViews,
              args: argparse.Namespace, memory: PeakMemory) -> dict:
    """Train the modules of ``model``, reset to ``snapshot``, with the
    method's plain step on ``dataset``."""
    method = load_method(name)
    device = torch.device(args.device)
    model.load_state_dict(snapshot)
    del snapshot
    _release(device)
    memory.reset()
    clock = SectionClock(device)
    step = plain_step(name, model, model_cfg, cfg, dataset, args, clock)

    loss0 = None
    for _ in range(args.warmup):
        loss = step()
        loss0 = loss if loss0 is None else loss0
    start = clock.now()
    for _ in range(args.iters):
        loss = step()
        loss0 = loss if loss0 is None else loss0
    elapsed = clock.now() - start
    clock.active = True
    for _ in range(args.split_iters):
        begin = clock.now()
        step()
        clock.add('iteration', clock.now() - begin)
    peak = memory.read_mib()
    del step
    _release(device)
    return _result(name, method.TARGET, 'plain', 'plain PyTorch loop',
                   args.batch_size, args.iters, elapsed,
                   _split(clock.totals, args.split_iters, framework=False),
                   peak, loss0)


def default_methods(cfg: Config) -> List[str]:
    """The methods whose ``MODEL_TYPES`` include the config's model type."""
    kind = type_name(cfg.get('model') or {})
    return [name for name in available_methods()
            if kind in load_method(name).MODEL_TYPES]


def _check_args(args: argparse.Namespace, cfg: Config) -> None:
    if args.split_iters is None:
        args.split_iters = 0 if args.interleave else args.iters
    if args.interleave and args.split_iters:
        raise ConfigError('--interleave times whole steps only: use '
                          '--split-iters 0 (and a run without --interleave '
                          'for the split)')
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
        methods = [load_method(m) for m in (args.method
                                            or default_methods(cfg))]
        if args.size is None and methods and all(
                hasattr(m, 'view_sizes') for m in methods):
            args.size = methods[0].view_sizes(cfg)[0]  # for the report
        if args.size is None:
            raise ConfigError('no RandomResizedCrop in the config\'s train '
                              'pipeline to take the image size from; set '
                              '--image-size')
    if not args.method:
        args.method = default_methods(cfg)
        if not args.method:
            raise ConfigError(
                f'no reference step times model.type '
                f'{type_name(cfg.get("model") or {})!r}; choose one with '
                f'--method ({", ".join(available_methods())})')
    for name in args.method:
        # The model each method times, with the benchmark's batch: the
        # config checks training would run (e.g. queue length against the
        # batch) apply to it.
        timed = copy.deepcopy(cfg)
        timed.model = method_model(cfg, name)
        timed.merge_from_dict({'train_dataloader.batch_size': args.batch_size})
        check_model_config(timed)


def _step_ratio_key(name: str, other: str) -> str:
    return f'{name}_step_over_{other}_step'


def benchmark(cfg: Config, args: argparse.Namespace) -> dict:
    """Time every method in ``args.method`` on both paths.

    Returns:
        dict: The report: machine, settings, results (one per method and
        path), mmseed/plain images/s ratios, and with several methods, each
        path's step-time ratio of the first method over each other one.
    """
    _check_args(args, cfg)
    device = torch.device(args.device)
    # As tools/train.py does on CPU; both paths share the process, so both
    # get it (KEEP_FREED_MEMORY_ENV set to 0 times malloc's defaults).
    malloc = ('keeps freed memory (mmseed.utils.cpu_memory, as '
              'tools/train.py on CPU)' if args.device == 'cpu'
              and keep_freed_memory() else 'system defaults')
    if args.threads:
        torch.set_num_threads(args.threads)
    memory = PeakMemory(device)
    results, ratios, rounds, loss_gaps = [], {}, {}, {}
    total_iters = args.warmup + args.iters + args.split_iters
    for name in args.method:
        print(f'timing {name}: mmseed and plain, {args.repeats} round(s)'
              ' ...', file=sys.stderr, flush=True)
        model_cfg = method_model(cfg, name)
        # One batch more than the steps: the epoch does not end inside the
        # timed steps, so mmengine's end-of-epoch log (whose first call sets
        # up the visualizer's writers, ~0.1 s) is not timed as a step.
        # A method whose state grows with the training set (per-image
        # memory banks) gets a dataset of the real set's length, so that its
        # peak memory is the real one.
        method = load_method(name)
        length = max(args.batch_size * (total_iters + 1),
                     getattr(method, 'dataset_size', lambda c: 0)(cfg))
        # A multi-crop method gives each view's size (global and local).
        sizes = getattr(method, 'view_sizes', lambda c: None)(cfg)
        dataset = SyntheticViews(
            length=length, pool=args.batch_size, num_views=method.NUM_VIEWS,
            size=args.size, seed=args.seed, num_classes=num_classes(cfg),
            sizes=sizes)
        framework_runs, plain_runs = [], []
        model = snapshot = None
        for round_ in range(args.repeats):
            # Alternate which path goes first, so a drift in the machine's
            # speed does not favour one of them.
            plain_first = round_ % 2 == 1 and not args.interleave
            if plain_first:
                plain_runs.append(run_plain(name, model, snapshot, model_cfg,
                                            cfg, dataset, args, memory))
            del model
            _release(device)
            framework, model, snapshot, paired = run_mmseed(
                cfg, name, model_cfg, dataset, args, memory)
            framework_runs.append(framework)
            if paired is not None:
                plain_runs.append(paired)
            elif not plain_first:
                plain_runs.append(run_plain(name, model, snapshot, model_cfg,
                                            cfg, dataset, args, memory))
        del model, snapshot, dataset
        _release(device)
        results += [_combine(framework_runs), _combine(plain_runs)]
        rounds[name] = [f['images_per_s'] / p['images_per_s']
                        for f, p in zip(framework_runs, plain_runs)]
        ratios[name] = statistics.median(rounds[name])
        loss_gaps[name] = abs(framework_runs[0]['loss_step0'] -
                              plain_runs[0]['loss_step0'])
    notes = [
        'inputs: synthetic uint8 images at the crop size, through each '
        'path\'s DataLoader (mmseed: the config\'s collate); augmentation is '
        'not included (see data_throughput.py)',
        'images/s counts images, not views',
        *(['interleaved: one plain step (on a copy of the model) after each '
           'mmseed step in the same run; both paths share the peak memory']
          if args.interleave else []),
        'bf16: mmseed uses AmpOptimWrapper (mmengine always adds a dynamic '
        'GradScaler); the plain loop uses autocast alone',
        'channels-last: mmseed converts the built model (no config switch); '
        'the plain loop also converts its inputs',
    ]
    notes += [f'{name}: {note}' for name in args.method
              for note in load_method(name).NOTES]
    report = dict(
        machine=machine_info(),
        settings=dict(
            config=args.config, methods=args.method, device=args.device,
            batch_size=args.batch_size, image_size=list(args.size),
            warmup=args.warmup, iters=args.iters, repeats=args.repeats,
            split_iters=args.split_iters, interleave=args.interleave,
            amp=args.amp,
            channels_last=args.channels_last,
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            # fp32 runs use TF32 where torch's defaults allow it.
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            tf32_cudnn=torch.backends.cudnn.allow_tf32,
            workers=args.workers, seed=args.seed,
            memory=memory.kind,
            malloc=malloc,
            notes=notes),
        results=results,
        ratio_mmseed_over_plain=ratios,
        ratio_mmseed_over_plain_rounds=rounds,
        loss_step0_abs_diff=loss_gaps)
    step = {(r['method'], r['path']): r['step_ms'] for r in results}
    first = args.method[0]
    for other in args.method[1:]:
        report[_step_ratio_key(first, other)] = {
            path: step[first, path] / step[other, path] for path in PATHS}
    return report


def report_table(report: dict) -> str:
    """The results as a Markdown table, one row per method and path."""
    settings = report['settings']
    precision = 'bf16' if settings['amp'] == 'bf16' else 'fp32'
    if settings['channels_last']:
        precision += ', channels-last'
    targets = {name: load_method(name).TARGET for name in settings['methods']}
    header = ['config', 'method', 'path', 'device', 'batch', 'precision',
              'images/s', 'mmseed/plain', 'step ms', 'data ms',
              ' / '.join(dict.fromkeys(targets.values())) + ' ms',
              'student fwd+bwd+opt ms', 'queue ms', 'other ms', 'peak MiB']
    device = report['machine']['gpu'] if settings['device'] == 'cuda' \
        else report['machine']['cpu']
    rows = []
    for r in report['results']:
        split = r['split_ms'] or {}
        ratio = (report['ratio_mmseed_over_plain'][r['method']]
                 if r['path'] == 'mmseed' else None)
        rows.append([
            Path(settings['config']).stem, r['method'], r['path'], device,
            settings['batch_size'], precision, r['images_per_s'], ratio,
            r['step_ms'], split.get('data'), split.get(targets[r['method']]),
            split.get('student'), split.get('queue'), split.get('other'),
            r['peak_memory_mib']])
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
    for name, rounds in report['ratio_mmseed_over_plain_rounds'].items():
        if len(rounds) > 1:
            print(f'{name}: mmseed/plain per round: '
                  + ', '.join(f'{r:.3f}' for r in rounds))
    for name, gap in report['loss_step0_abs_diff'].items():
        print(f'{name}: step-0 loss |mmseed - plain| = {gap:.3g}')
    first = args.method[0]
    for other in args.method[1:]:
        for path, ratio in report[_step_ratio_key(first, other)].items():
            print(f'{path}: {load_method(first).TITLE} step time / '
                  f'{load_method(other).TITLE} step time = {ratio:.3g}')
    print(f'peak memory: {report["settings"]["memory"]}')
    malloc = report['settings']['malloc']
    print(f'malloc: {malloc}' + (f' ({KEEP_FREED_MEMORY_ENV}=0 for its '
                                 'defaults)' if 'keeps' in malloc else ''))
    print(f'report written to {write_json(report, out)}')


if __name__ == '__main__':
    run_with_clear_errors(main)
