"""DoGo: two peers trained together, each by its own self-supervised
objective and by matching the other's similarity distribution (Bhat, Arani
and Zonooz, "Distill on the Go: Online knowledge distillation in
self-supervised learning", CVPR-W 2021)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmengine.model import BaseModel, BaseModule, is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.runner.checkpoint import get_state_dict
from torch import Tensor

from mmseed.errors import ConfigError
from mmseed.models.losses import nt_xent, similarity_kl, simsiam_loss
from mmseed.models.utils import split_views
from mmseed.registry import MODELS
from mmseed.utils.config_check import TrainingSetting
from mmseed.utils.shapes import check_linear_input

__all__ = ['DoGo', 'DoGoPeer']

OBJECTIVES = ('simclr', 'simsiam')
PEERS = ('peer1', 'peer2')


class DoGoPeer(BaseModule):
    """One peer: backbone, projection head and, for SimSiam, a predictor.

    Args:
        backbone (dict): Backbone config.
        neck (dict): Projection head, e.g. DoGo's SimCLR head
            ``NonLinearNeck`` Linear(d, 512, no bias)-BN-ReLU-Linear(512,
            128).
        objective (str): ``'simclr'`` (NT-Xent) or ``'simsiam'``.
        predictor (dict, optional): SimSiam's predictor (a neck on the
            projection); required for, and only for, ``'simsiam'``.
        temperature (float): NT-Xent temperature. Defaults to 0.5 (DoGo).
        loss_weight (float): Weight of the peer's own objective. Defaults
            to 1 (DoGo's ``criterion_weight[0:2]`` are never read).
        mutual_weight (float): Weight of its KL term (``criterion_weight``
            [2] = 100 for peer 1, [3] = 1 for peer 2 in the official
            template).
        key (str): The peer's config key, for messages.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 objective: str = 'simclr',
                 predictor: Optional[dict] = None,
                 temperature: float = 0.5,
                 loss_weight: float = 1.,
                 mutual_weight: float = 1.,
                 key: str = 'model.peer',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if objective not in OBJECTIVES:
            raise ConfigError(f'{key}.objective must be one of '
                              f'{", ".join(OBJECTIVES)}, got {objective!r}')
        if (predictor is None) == (objective == 'simsiam'):
            raise ConfigError(
                f'{key}.predictor: a simsiam peer needs a predictor and a '
                f'simclr peer has none; got objective={objective!r} and '
                f'predictor={predictor!r}')
        self.key = key
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.predictor = MODELS.build(predictor) if predictor else None
        self.objective = objective
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.mutual_weight = mutual_weight

    def embed(self, images: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """The L2-normalised projection and (SimSiam) prediction of a view.
        """
        feats = self.backbone(images)
        check_linear_input(self.neck, feats[-1], f'{self.key}.neck')
        z = self.neck(feats)[0]
        p = self.predictor((z, ))[0] if self.predictor is not None else None
        return F.normalize(z, dim=1), (None if p is None else
                                       F.normalize(p, dim=1))

    def forward(self, view1: Tensor, view2: Tensor) -> Tuple[tuple, tuple]:
        """:meth:`embed` of each view, one after the other (BatchNorm
        statistics per view, as the official peers), in one call: under DDP
        a peer runs one forward per backward."""
        return self.embed(view1), self.embed(view2)

    def objective_loss(self, out1: tuple, out2: tuple) -> Tensor:
        """The peer's own loss on its two views' outputs."""
        (z1, p1), (z2, p2) = out1, out2
        if self.objective == 'simclr':
            return nt_xent(z1, z2, self.temperature)
        return simsiam_loss(p1, p2, z1, z2)


def _check_peer(cfg, key: str) -> None:
    """A peer's config must give a projection head (checked before training
    and when the model is built)."""
    if not isinstance(cfg, dict) or not cfg.get('neck'):
        raise ConfigError(f'{key} needs a backbone and a projection head: '
                          f'set {key}.neck (e.g. NonLinearNeck)')


@MODELS.register_module()
class DoGo(BaseModel):
    """Distill-on-the-Go: two peers, two optimizers, one step.

    Each peer gets its own two augmented views of the batch (the pipeline
    yields four views per image: peer 1's two, then peer 2's) and is trained
    by ``loss_weight x`` its objective (SimCLR's NT-Xent with every rank's
    negatives, or SimSiam's negative cosine) ``+ mutual_weight x`` the KL
    from the other peer's similarity distribution to its own (``S[i, j] =
    cos(x1_i, x2_j) / mutual_temperature`` over its own two views, the other
    peer's detached; :func:`mutual_similarity_kl`). The embeddings that
    enter the KL are a SimCLR peer's projections and a SimSiam peer's
    predictions; with two SimSiam peers the target is the other peer's
    projections (NeurAI-Lab/DoGo ``util/train_util.py``).

    Each peer has its own optimizer (``optim_wrapper`` with
    ``constructor='MultiOptimWrapperConstructor'`` and entries ``peer1`` and
    ``peer2``); the two losses share no graph, so each backward reaches only
    its peer. Under DDP use ``model_wrapper_cfg=dict(type=
    'MMSeparateDistributedDataParallel')``.

    ``extract_feat`` returns ``eval_peer``'s backbone features, so the kNN,
    linear and semi-supervised tools evaluate that peer.

    Args:
        peer1 (dict): :class:`DoGoPeer` arguments of peer 1.
        peer2 (dict): Of peer 2.
        mutual_temperature (float): Defaults to 0.1 (DoGo).
        kl_reduction (str): ``'mean'`` (official: ``F.kl_div``'s element
            mean, i.e. the KL divergence / N) or ``'batchmean'`` (the KL
            divergence; divide the official weights by the batch size to
            train the same). Defaults to ``'mean'``.
        eval_peer (str): ``'peer1'`` or ``'peer2'``. Defaults to
            ``'peer2'``.
        data_preprocessor (dict, optional): Data pre-processor config.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self,
                 peer1: dict,
                 peer2: dict,
                 mutual_temperature: float = 0.1,
                 kl_reduction: str = 'mean',
                 eval_peer: str = 'peer2',
                 data_preprocessor: Optional[Union[dict, object]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='SelfSupDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if eval_peer not in PEERS:
            raise ConfigError(f'model.eval_peer must be peer1 or peer2, got '
                              f'{eval_peer!r}')
        for name, cfg in zip(PEERS, (peer1, peer2)):
            _check_peer(cfg, f'model.{name}')
            setattr(self, name, DoGoPeer(**cfg, key=f'model.{name}'))
        self.mutual_temperature = mutual_temperature
        self.kl_reduction = kl_reduction
        self.eval_peer = eval_peer

    @classmethod
    def check_config(cls, cfg: dict, key: str,
                     setting: TrainingSetting) -> None:
        """Each peer needs a projection head; the batch must hold pairs."""
        for name in PEERS:
            _check_peer(cfg.get(name), f'{key}.{name}')
        if setting.batch_size is not None and setting.batch_size < 2:
            raise ConfigError(
                'DoGo contrasts the images of a batch: set '
                'train_dataloader.batch_size to 2 or more')

    def state_dict(self, *args, **kwargs) -> dict:
        """The state dict without the DDP wrappers' ``module.`` in the keys
        (``MMSeparateDistributedDataParallel`` wraps each peer inside the
        model, and mmengine saves ``model.state_dict()``), so a checkpoint
        has the same keys on one process or many."""
        return get_state_dict(self, *args, **kwargs)

    def _peer(self, name: str) -> DoGoPeer:
        """A peer, without the DDP wrapper
        ``MMSeparateDistributedDataParallel`` puts around it."""
        peer = getattr(self, name)
        return peer.module if is_model_wrapper(peer) else peer

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone features of ``eval_peer``."""
        return self._peer(self.eval_peer).backbone(inputs)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise RuntimeError(f'DoGo has no mode {mode!r} (loss or tensor)')

    @staticmethod
    def _kl_embeddings(peer: DoGoPeer, outs: Sequence[tuple],
                       target_of: Optional[DoGoPeer] = None) -> tuple:
        """A peer's two views' embeddings in the mutual term: a SimCLR
        peer's projections, a SimSiam peer's predictions, except as the
        target of another SimSiam peer (then its projections)."""
        index = 1 if peer.objective == 'simsiam' else 0
        if target_of is not None and target_of.objective == 'simsiam':
            index = 0
        return outs[0][index], outs[1][index]

    def loss(self, inputs: List[Tensor],
             data_samples=None) -> Dict[str, Tensor]:
        """Both peers' losses; ``loss_peer1`` trains peer 1 only, and so on.

        Args:
            inputs (List[Tensor]): Four views per image: peer 1's two, then
                peer 2's two.
            data_samples: Unused (no labels).

        Returns:
            Dict[str, Tensor]: ``loss_peer1``, ``loss_peer2`` and, for the
            log, each peer's objective and KL term.
        """
        views = split_views(inputs, [('peer1', 2), ('peer2', 2)],
                            key='model (DoGo: 2 views per peer)')
        # Called as modules (DDP-wrapped under MMSeparateDistributedDataParallel).
        outs = [getattr(self, name)(*views[name]) for name in PEERS]
        peers = tuple(self._peer(name) for name in PEERS)
        own = [peer.objective_loss(*out) for peer, out in zip(peers, outs)]
        kls = []
        for i in (0, 1):
            peer, other = peers[i], peers[1 - i]
            kls.append(similarity_kl(
                *self._kl_embeddings(peer, outs[i]),
                *self._kl_embeddings(other, outs[1 - i], target_of=peer),
                self.mutual_temperature, self.kl_reduction))
        losses = {}
        for name, peer, ssl, kl in zip(PEERS, peers, own, kls):
            losses[f'loss_{name}'] = (peer.loss_weight * ssl +
                                      peer.mutual_weight * kl)
            losses[f'{name}_{peer.objective}'] = ssl.detach()
            losses[f'{name}_kl'] = kl.detach()
        return losses

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One step of both peers, each by its own optimizer."""
        missing = [n for n in PEERS
                   if not isinstance(optim_wrapper, OptimWrapperDict)
                   or n not in optim_wrapper.optim_wrappers]
        if missing:
            raise ConfigError(
                f'DoGo trains each peer with its own optimizer, but '
                f'optim_wrapper has none for {", ".join(missing)}: set '
                "optim_wrapper = dict(constructor='MultiOptimWrapperConstructor',"
                ' peer1=dict(optimizer=...), peer2=dict(optimizer=...))')
        wrappers = [optim_wrapper[name] for name in PEERS]
        with wrappers[0].optim_context(self.peer1), \
                wrappers[1].optim_context(self.peer2):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        _, log_vars = self.parse_losses(losses)
        # The peers' losses share no graph: each backward reaches one peer.
        for name, wrapper in zip(PEERS, wrappers):
            wrapper.update_params(losses[f'loss_{name}'])
        return log_vars
