"""The SEED distillation loss (Fang et al., "SEED: Self-supervised
Distillation for Visual Representation", ICLR 2021)."""
import torch.nn.functional as F
from torch import Tensor, nn

from mmseed.registry import MODELS
from .functional import fp32, queue_logits, soft_cross_entropy

__all__ = ['seed_loss', 'SEEDLoss']


@fp32
def seed_loss(student: Tensor,
              teacher: Tensor,
              queue: Tensor,
              student_temp: float = 0.2,
              teacher_temp: float = 1e-4) -> Tensor:
    """Soft cross-entropy between teacher and student similarity distributions.

    Each sample's similarities are taken to its own teacher embedding and to
    the ``K`` queued teacher embeddings. The student's logits are
    ``[s·t, s·Q] / student_temp``, the teacher's target is
    ``softmax([t·t, t·Q] / teacher_temp)``, and the loss is
    ``-sum(target * log_softmax(student logits))`` averaged over the batch.
    It is computed in fp32 whatever the autocast state, since a teacher
    temperature of 1e-4 overflows half precision.

    Args:
        student (Tensor): Student embeddings, shape (N, D); normalised here.
        teacher (Tensor): Teacher embeddings of the same images, (N, D);
            normalised here.
        queue (Tensor): Queued teacher embeddings, (K, D), already
            L2-normalised.
        student_temp (float): Student temperature. Defaults to 0.2.
        teacher_temp (float): Teacher temperature. Defaults to 1e-4.

    Returns:
        Tensor: The scalar loss.
    """
    if student.shape != teacher.shape or queue.shape[1] != student.shape[1]:
        raise ValueError(
            f'SEED needs student {tuple(student.shape)} and teacher '
            f'{tuple(teacher.shape)} embeddings of one shape (N, D) and a '
            f'queue (K, D), got queue {tuple(queue.shape)}')
    s = F.normalize(student, dim=1)
    t = F.normalize(teacher, dim=1)
    return soft_cross_entropy(queue_logits(s, t, queue),
                              queue_logits(t, t, queue), student_temp,
                              teacher_temp)


@MODELS.register_module()
class SEEDLoss(nn.Module):
    """Module wrapper of :func:`seed_loss`.

    Args:
        student_temp (float): Student temperature; 0.2 in the paper and the
            official code (jacobswan1/SEED, ``--temp``).
        teacher_temp (float): Teacher temperature. The default, 1e-4, is the
            official code's (``--distill-t``), which produced the paper's
            results: the target is then nearly one-hot on the positive. 0.01,
            used by a public reproduction, gives a softer target that also
            weighs the queued neighbours.
    """

    def __init__(self, student_temp: float = 0.2,
                 teacher_temp: float = 1e-4) -> None:
        super().__init__()
        if student_temp <= 0 or teacher_temp <= 0:
            raise ValueError('SEEDLoss temperatures must be positive, got '
                             f'{student_temp} and {teacher_temp}')
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp

    def forward(self, student: Tensor, teacher: Tensor, queue: Tensor) -> Tensor:
        return seed_loss(student, teacher, queue, self.student_temp,
                         self.teacher_temp)
