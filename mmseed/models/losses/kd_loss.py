"""Distillation of a classifier's soft labels (Hinton et al., 2015)."""
from torch import Tensor

from .functional import fp32, soft_cross_entropy

__all__ = ['soft_label_distillation']


@fp32
def soft_label_distillation(logits: Tensor,
                            teacher_logits: Tensor,
                            temperature: float = 1.,
                            t_squared: bool = False) -> Tensor:
    """``-sum_y P_T(y|x; T) log P_S(y|x; T)``, averaged over the batch.

    Both distributions are softmaxes of logits / ``temperature``; the teacher
    is detached here. SimCLRv2 (Chen et al., NeurIPS 2020, eq. 2) uses this
    with T = 1 on unlabelled images; its distillation colab
    (google-research/simclr ``colabs/distillation_self_training.ipynb``,
    ``add_kd_loss``) multiplies it by T^2 (``t_squared``), Hinton et al.'s
    correction that keeps the gradient's scale independent of T.

    Args:
        logits (Tensor): (N, C) student logits.
        teacher_logits (Tensor): (N, C) teacher logits.
        temperature (float): T, for both. Defaults to 1.
        t_squared (bool): Multiply by T^2. Defaults to False.

    Returns:
        Tensor: The scalar loss, in fp32.
    """
    if logits.shape != teacher_logits.shape:
        raise ValueError(f'student logits {tuple(logits.shape)} and teacher '
                         f'logits {tuple(teacher_logits.shape)} differ')
    loss = soft_cross_entropy(logits, teacher_logits.detach(), temperature,
                              temperature)
    return loss * temperature**2 if t_squared else loss
