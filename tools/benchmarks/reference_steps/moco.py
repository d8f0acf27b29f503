"""The student's own MoCo-v2 step (``--method moco``), SEED's baseline.

A MoCo config is timed as it is. From a SEED config, the model is mmseed's
``MoCoV2`` (mmpretrain's ``MoCo`` with the key encoder first) with the SEED
config's student backbone, neck, queue length, embedding width and data
pre-processor, trained by the same optimizer.

The interface is described in ``reference_steps/__init__.py``.
"""
from typing import Callable, ContextManager, Iterator, List, Optional

import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from torch import Tensor, nn

from mmseed.errors import ConfigError

from bench_utils import type_name

__all__ = [
    'TITLE', 'MODEL_TYPES', 'NUM_VIEWS', 'TARGET', 'NOTES', 'model_config',
    'prepare', 'install_sections', 'PlainStep'
]

TITLE = 'MoCo-v2'
MODEL_TYPES = ('MoCo', 'MoCoV2')
NUM_VIEWS = 2
TARGET = 'key_encoder'
NOTES = [
    '2 views of each image',
    'mmseed: mmpretrain\'s batch shuffle and the key normalisation count as '
    'student time',
]
# MoCo-v2 (Chen et al., 2020, arXiv:2003.04297), as
# configs/mocov2/mocov2_r50_8xb32-200e_in1k.py: key encoder momentum 0.999
# (mmpretrain's momentum is 1 - m) and temperature 0.2.
MOMENTUM = 0.001
TEMPERATURE = 0.2


def model_config(cfg: Config) -> ConfigDict:
    """The config's model if it is MoCo, else ``MoCoV2`` with the SEED
    config's student."""
    model = ConfigDict(cfg.model.to_dict())
    kind = type_name(model)
    if kind in MODEL_TYPES:
        return model
    if kind != 'SEED':
        raise ConfigError(f'--method moco needs a SEED or MoCo config; '
                          f'model.type is {kind}')
    return ConfigDict(
        type='MoCoV2',
        queue_len=model.get('queue_len', 65536),
        feat_dim=model.get('feat_dim', 128),
        momentum=MOMENTUM,
        data_preprocessor=model.get('data_preprocessor'),
        backbone=model.backbone,
        neck=model.neck,
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=TEMPERATURE))


def prepare(model: nn.Module) -> None:
    """Nothing to do: MoCo trains from its own initialisation."""


def install_sections(model: nn.Module, clock) -> None:
    """Time the key encoder (momentum update and forward) and the queue
    update."""
    # MoCoV2 fuses the momentum update; mmpretrain's MoCo calls the EMA's.
    clock.wrap(*((model, '_momentum_update')
                 if hasattr(model, '_momentum_update') else
                 (model.encoder_k, 'update_parameters')), 'target')
    clock.wrap(model.encoder_k, 'forward', 'target')
    clock.wrap(model, '_dequeue_and_enqueue', 'queue')


class PlainStep:
    """One MoCo-v2 training step in plain PyTorch, on a built MoCo model's
    modules (the key encoder is ``model.encoder_k.module``).

    Key encoder momentum update and forward under ``no_grad``; query forward,
    InfoNCE against the queue, backward, optimizer step; then the keys replace
    the oldest queue entries. The key encoder starts as a copy of the query
    encoder, as mmpretrain's first momentum update makes it.

    Args:
        model (nn.Module): The built (and initialised) MoCo model.
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
        self.optimizer = make_optimizer(self.query_params)
        self.preprocess, self.clock = preprocess, clock
        self.autocast = autocast
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
