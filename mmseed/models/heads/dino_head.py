"""The DINO projection head with its output centre (Caron et al., 2021),
and its per-token twin for EsViT's region matching (Li et al., 2021)."""
import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.registry import MODELS

__all__ = ['DINOHead', 'RegionMatchingHead', 'WeightNormLinear']


class WeightNormLinear(nn.Module):
    """A bias-free Linear whose rows are ``g * v / |v|`` (Salimans and
    Kingma, 2016), with the parameter names of ``nn.utils.weight_norm``
    (``weight_g``, ``weight_v``) so DINO / EsViT checkpoints keep their keys.

    Args:
        in_features (int): Input width.
        out_features (int): Output width.
        fix_norm (bool): Keep ``g`` at 1, untrained (DINO's
            ``norm_last_layer``). Defaults to True.
    """

    def __init__(self, in_features: int, out_features: int,
                 fix_norm: bool = True) -> None:
        super().__init__()
        weight = torch.empty(out_features, in_features)
        nn.init.kaiming_uniform_(weight, a=5**0.5)  # nn.Linear's init
        self.weight_v = nn.Parameter(weight)
        self.weight_g = nn.Parameter(torch.ones(out_features, 1),
                                     requires_grad=not fix_norm)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight_g * self.weight_v / self.weight_v.norm(
            dim=1, keepdim=True)
        return F.linear(x, weight)


@MODELS.register_module()
class DINOHead(BaseModule):
    """MLP -> L2 normalisation -> weight-normalised Linear, and the centre of
    the outputs it produces as a teacher.

    ``nlayers`` Linear layers (GELU between them, no BatchNorm by default)
    map the feature to a ``bottleneck_dim`` embedding, which is
    L2-normalised and projected by a bias-free weight-normalised Linear to
    ``out_dim`` logits (facebookresearch/dino ``vision_transformer.py``
    ``DINOHead``; EsViT uses it as is). The MLP starts from
    trunc-normal(std 0.02) weights and zero biases.

    The ``center`` buffer is the running mean of the teacher's logits, which
    the view loss subtracts before sharpening: :meth:`update_center` moves it
    by ``center_momentum`` towards the batch mean over every rank. In a
    student / EMA-teacher pair only the teacher's centre is used (the EMA
    copies parameters, not this buffer).

    Args:
        in_channels (int): Input width (the backbone's pooled feature).
        out_dim (int): Output logits K. Defaults to 65536.
        hidden_dim (int): MLP width. Defaults to 2048.
        bottleneck_dim (int): Width before the last layer. Defaults to 256.
        nlayers (int): Linear layers of the MLP. Defaults to 3.
        use_bn (bool): BatchNorm after the hidden Linears. Defaults to False.
        norm_last_layer (bool): Fix the last layer's norms at 1. Defaults
            to True.
        center_momentum (float): Defaults to 0.9.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_dim: int = 65536,
                 hidden_dim: int = 2048,
                 bottleneck_dim: int = 256,
                 nlayers: int = 3,
                 use_bn: bool = False,
                 norm_last_layer: bool = True,
                 center_momentum: float = 0.9,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if nlayers < 1 or not 0 <= center_momentum < 1:
            raise ConfigError(f'DINOHead needs nlayers >= 1 and '
                              f'center_momentum in [0, 1), got {nlayers} and '
                              f'{center_momentum}')
        widths = [in_channels] + [hidden_dim] * (nlayers - 1) + \
            [bottleneck_dim]
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if i < nlayers - 1:
                if use_bn:
                    layers.append(nn.BatchNorm1d(b))
                layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)
        self.last_layer = WeightNormLinear(bottleneck_dim, out_dim,
                                           fix_norm=norm_last_layer)
        self.center_momentum = center_momentum
        self.register_buffer('center', torch.zeros(1, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        """(..., in_channels) features to (..., out_dim) logits."""
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))

    @torch.no_grad()
    def update_center(self, logits: Tensor) -> None:
        """Move the centre towards the mean of ``logits`` (any leading
        dimensions: images, or images x tokens) over all ranks.

        Args:
            logits (Tensor): (..., out_dim) teacher logits.
        """
        flat = logits.detach().float().reshape(-1, logits.shape[-1])
        total = flat.sum(dim=0, keepdim=True)
        all_reduce(total)
        mean = total / (flat.shape[0] * get_world_size())
        self.center.mul_(self.center_momentum).add_(
            mean * (1 - self.center_momentum))


@MODELS.register_module()
class RegionMatchingHead(DINOHead):
    """EsViT's region head: a :class:`DINOHead` of its own (parameters and
    centre) applied to every token of the backbone's last stage, (N, T, C)
    to (N, T, K); its centre is the mean over images and tokens
    (microsoft/esvit ``DDINOLoss``)."""
