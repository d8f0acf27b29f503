"""SimSiam's symmetric negative cosine (Chen & He, CVPR 2021)."""
import torch.nn.functional as F
from torch import Tensor

from .functional import fp32

__all__ = ['simsiam_loss']


@fp32
def simsiam_loss(p1: Tensor, p2: Tensor, z1: Tensor, z2: Tensor) -> Tensor:
    """``-(cos(p1, sg(z2)) + cos(p2, sg(z1))) / 2``, batch means.

    Args:
        p1, p2 (Tensor): (N, D) predictor outputs of views 1 and 2.
        z1, z2 (Tensor): (N, D) projections of views 1 and 2 (stop-gradient
            here, as NeurAI-Lab/DoGo ``criterion/simsiam_loss.py``).

    Returns:
        Tensor: The scalar loss, in [-1, 1].
    """
    def negative_cosine(p: Tensor, z: Tensor) -> Tensor:
        return -(F.normalize(p, dim=1) *
                 F.normalize(z.detach(), dim=1)).sum(1).mean()

    return (negative_cosine(p1, z2) + negative_cosine(p2, z1)) / 2
