"""DoGo's plain reference step (``--method dogo``): the config's two peers,
each trained by its own objective and the similarity KL against the other
peer, with its own optimizer.

DoGo has no target network: both peers train. The report's two network
sections are the two peers (one section each, so their sum is the step):

* ``peer1`` (the report's target column): peer 1's two forwards, its own
  objective, its backward and its optimizer step;
* ``student``: the same for peer 2, plus both peers' similarity-KL terms
  (mmseed's ``DoGo.loss`` computes them outside the peers, so its path can
  time them only with the rest of the step; the plain loop counts them in
  the same place) and the sum of the losses for the log.

On the mmseed path, peer 1's section is the wrapped ``DoGoPeer.forward`` and
``objective_loss`` of ``model.peer1`` and the ``update_params`` of its optim
wrapper (``optim_wrapper['peer1']``: backward and step); ``student`` is the
rest of ``train_step``. In the CIFAR configs peer 2 is the peer evaluated
(``eval_peer``), which is why it is the one named ``student``. There is no
queue.

The interface is described in ``reference_steps/__init__.py``.
"""
from typing import Callable, ContextManager, Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.optim import OptimWrapperDict
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.models.losses import nt_xent, similarity_kl, simsiam_loss

from bench_utils import type_name

__all__ = [
    'TITLE', 'MODEL_TYPES', 'NUM_VIEWS', 'TARGET', 'NOTES', 'model_config',
    'prepare', 'install_sections', 'install_optim_sections', 'PlainStep'
]

TITLE = 'DoGo'
MODEL_TYPES = ('DoGo', )
NUM_VIEWS = 4  # peer 1's two views, then peer 2's
TARGET = 'peer1'
NOTES = [
    '4 views of each image (2 per peer)',
    'no target network: "peer1" is peer 1\'s forwards, objective, backward '
    'and optimizer step; "student" is the same for peer 2 plus both '
    'similarity-KL terms',
]
PEERS = ('peer1', 'peer2')

# (projection, prediction or None) of one view, both L2-normalised.
Output = Tuple[Tensor, Optional[Tensor]]


def model_config(cfg: Config) -> ConfigDict:
    """The config's DoGo model, as it is."""
    model = ConfigDict(cfg.model.to_dict())
    kind = type_name(model)
    if kind not in MODEL_TYPES:
        raise ConfigError(f'--method dogo needs a DoGo config; model.type is '
                          f'{kind}')
    return model


def prepare(model: nn.Module) -> None:
    """Nothing to do: both peers train from their own initialisation."""


def install_sections(model: nn.Module, clock) -> None:
    """Time peer 1's forwards and objective as ``'target'``."""
    clock.wrap(model.peer1, 'forward', 'target')
    clock.wrap(model.peer1, 'objective_loss', 'target')


def install_optim_sections(optim_wrapper: OptimWrapperDict, clock) -> None:
    """Time peer 1's backward and optimizer step as ``'target'``."""
    clock.wrap(optim_wrapper['peer1'], 'update_params', 'target')


class PlainStep:
    """One DoGo training step in plain PyTorch, on a built model's peers.

    Each peer embeds its two views (backbone, projection head, SimSiam
    predictor, L2-normalised), takes its objective (NT-Xent or SimSiam) and
    the KL from the other peer's detached similarity distribution to its
    own; ``loss_weight x objective + mutual_weight x KL`` is backpropagated
    and stepped by the peer's own optimizer (``optim_wrapper.peer1`` /
    ``peer2``), peer 1 first, as ``DoGo.train_step`` does.

    Args:
        model (nn.Module): The built (and initialised) DoGo model.
        preprocess (Callable): uint8 batch to normalised device tensor.
        make_optimizer (Callable): The config's optimizer over parameters,
            of the named ``optim_wrapper`` entry.
        clock (SectionClock): Times the sections.
        autocast (Callable): The forwards' precision context.
    """

    def __init__(self, model: nn.Module,
                 preprocess: Callable[[Tensor], Tensor],
                 make_optimizer: Callable[..., torch.optim.Optimizer],
                 clock, autocast: Callable[[], ContextManager]) -> None:
        self.peers = [getattr(model, name) for name in PEERS]
        self.optimizers = [make_optimizer(list(peer.parameters()), name)
                           for name, peer in zip(PEERS, self.peers)]
        self.mutual_temperature = model.mutual_temperature
        self.kl_reduction = model.kl_reduction
        self.preprocess, self.clock = preprocess, clock
        self.autocast = autocast
        for peer in self.peers:
            peer.train()

    @staticmethod
    def embed(peer: nn.Module, x: Tensor) -> Output:
        """The peer's modules on one view: backbone, projection head and
        (SimSiam) predictor, each output L2-normalised."""
        z = peer.neck(peer.backbone(x))[0]
        p = None if peer.predictor is None else peer.predictor((z, ))[0]
        return F.normalize(z, dim=1), (None if p is None else
                                       F.normalize(p, dim=1))

    @staticmethod
    def objective(peer: nn.Module, outs: List[Output]) -> Tensor:
        """The peer's own loss: NT-Xent or SimSiam's."""
        (z1, p1), (z2, p2) = outs
        if peer.objective == 'simclr':
            return nt_xent(z1, z2, peer.temperature)
        return simsiam_loss(p1, p2, z1, z2)

    @staticmethod
    def kl_pair(peer: nn.Module, outs: List[Output],
                learner: Optional[nn.Module] = None) -> Tuple[Tensor, Tensor]:
        """The two views' embeddings a peer brings to a KL term: a SimCLR
        peer's projections, a SimSiam peer's predictions; as the target of a
        SimSiam ``learner``, its projections."""
        use_prediction = peer.objective == 'simsiam' and not (
            learner is not None and learner.objective == 'simsiam')
        index = 1 if use_prediction else 0
        return outs[0][index], outs[1][index]

    def run_peer(self, i: int, views: List[Tensor]) -> Tuple[list, Tensor]:
        """Peer ``i``'s outputs on its two views and its objective."""
        peer = self.peers[i]
        with self.autocast():
            outs = [self.embed(peer, v) for v in views]
            return outs, self.objective(peer, outs)

    def losses(self, outs: Tuple[list, list],
               own: Tuple[Tensor, Tensor]) -> List[Tensor]:
        """Each peer's ``loss_weight x objective + mutual_weight x KL``,
        the KL against the other peer's detached similarities."""
        losses = []
        with self.autocast():
            for i in (0, 1):
                peer, other = self.peers[i], self.peers[1 - i]
                kl = similarity_kl(*self.kl_pair(peer, outs[i]),
                                   *self.kl_pair(other, outs[1 - i], peer),
                                   self.mutual_temperature,
                                   self.kl_reduction)
                losses.append(peer.loss_weight * own[i] +
                              peer.mutual_weight * kl)
        return losses

    def update(self, i: int, loss: Tensor) -> None:
        """Peer ``i``'s backward and optimizer step."""
        loss.backward()
        self.optimizers[i].step()
        self.optimizers[i].zero_grad(set_to_none=True)

    def __call__(self, batches: Iterator[List[Tensor]]) -> Tensor:
        section = self.clock.section
        with section('data'):
            x = [self.preprocess(v) for v in next(batches)]
        with section('target'):
            outs1, own1 = self.run_peer(0, x[:2])
        with section('student'):
            outs2, own2 = self.run_peer(1, x[2:])
            losses = self.losses((outs1, outs2), (own1, own2))
            total = losses[0].detach() + losses[1].detach()
        with section('target'):
            self.update(0, losses[0])
        with section('student'):
            self.update(1, losses[1])
        return total
