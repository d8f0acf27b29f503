"""Two memory banks of embeddings indexed by dataset image, with negative
sampling: the memory of contrastive representation distillation (CRD)."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, all_reduce, broadcast
from torch import Tensor, nn

from mmseed.errors import CheckpointError, ConfigError

__all__ = ['ContrastBanks']

NEGATIVE_MODES = ('uniform', 'class')


class ContrastBanks(nn.Module):
    """A student bank and a teacher bank, one row per training image.

    Row ``i`` of each bank is a running mean of the L2-normalised embeddings
    of image ``i`` (its dataset index, ``data_sample.sample_idx``): after each
    step the batch's rows become ``m * old + (1 - m) * new``, renormalised.
    Banks start uniform in +-1/sqrt(D/3) (HobbitLong/RepDistiller
    ``crd/memory.py``). Every rank applies the updates of the whole global
    batch (all-gathered), so the banks stay identical across ranks.

    For each image, :meth:`sample` draws its ``K`` negatives, with
    replacement as the reference's bank sampler does: uniformly among the
    other images (``'uniform'``), or among the images of other classes
    (``'class'``, the reference's CIFAR-100 ``mode='exact'``, whose dataset
    draws without replacement). Unlike the reference's uniform sampler, an
    image is never its own negative.

    The banks are buffers, saved in checkpoints. Their size is the number of
    training images: given as ``num_samples``, or left None and set before
    training by :class:`~mmseed.engine.hooks.MemoryBankHook` from
    ``train_dataloader.dataset`` (which also gives the labels for
    ``'class'``). Each bank takes ``N x D`` fp32 values: 2 x 50,000 x 128 (51
    MB) for CIFAR-10, 2 x 1,281,167 x 128 (1.3 GB) for ImageNet.

    Args:
        dim (int): Embedding width ``D``. Defaults to 128 (``--feat_dim``).
        num_negatives (int): ``K`` per image. Defaults to 16384
            (``--nce_k``).
        momentum (float): ``m`` of the row update. Defaults to 0.5
            (``--nce_m``).
        negatives (str): ``'uniform'`` or ``'class'``. Defaults to
            ``'uniform'``.
        num_samples (int, optional): ``N``; None: set by the hook.
    """

    def __init__(self,
                 dim: int = 128,
                 num_negatives: int = 16384,
                 momentum: float = 0.5,
                 negatives: str = 'uniform',
                 num_samples: Optional[int] = None) -> None:
        super().__init__()
        if negatives not in NEGATIVE_MODES:
            raise ConfigError(f"model.negatives must be 'uniform' or 'class', "
                              f'got {negatives!r}')
        if dim < 1 or num_negatives < 1 or not 0 <= momentum < 1:
            raise ConfigError(
                f'memory banks need dim >= 1, num_negatives >= 1 and momentum '
                f'in [0, 1), got {dim}, {num_negatives} and {momentum}')
        self.dim = dim
        self.num_negatives = num_negatives
        self.momentum = momentum
        self.class_aware = negatives == 'class'
        self.register_buffer('student', torch.empty(0, dim))
        self.register_buffer('teacher', torch.empty(0, dim))
        # Z of the student-anchor and teacher-anchor scores; < 0: not set.
        self.register_buffer('normalizers', -torch.ones(2))
        for name in ('by_class', 'class_start', 'class_count'):
            self.register_buffer(name, torch.empty(0, dtype=torch.long),
                                 persistent=False)
        if num_samples is not None:
            self.allocate(num_samples)

    @property
    def num_samples(self) -> int:
        """``N``, the rows of each bank (0 before :meth:`allocate`)."""
        return self.student.shape[0]

    def allocate(self, num_samples: int,
                 labels: Optional[Tensor] = None) -> None:
        """Size the banks for ``num_samples`` images (once; a later call must
        give the same size), and set ``labels`` if given.

        Args:
            num_samples (int): Images in the training set.
            labels (Tensor, optional): (N,) class of every image, for
                ``negatives='class'`` (see :meth:`set_labels`).
        """
        if self.num_negatives >= num_samples:
            raise ConfigError(
                f'model.num_negatives={self.num_negatives} negatives per '
                f'image need more than {num_samples} training images: set '
                f'model.num_negatives below {num_samples}')
        if self.num_samples not in (0, num_samples):
            raise ConfigError(
                f'the memory banks hold {self.num_samples} rows but the '
                f'training set has {num_samples} images: each image needs '
                'its own row, so set model.num_samples to None (sized from '
                f'train_dataloader.dataset) or to {num_samples}')
        if self.num_samples == 0:
            device = self.normalizers.device
            bound = 1 / math.sqrt(self.dim / 3)
            for name in ('student', 'teacher'):
                bank = torch.rand(num_samples, self.dim, device=device)
                bank = bank.mul_(2 * bound).sub_(bound)
                broadcast(bank, 0)
                setattr(self, name, bank)
        if labels is not None:
            self.set_labels(labels)

    def set_labels(self, labels: Optional[Tensor]) -> None:
        """Group the images by class for class-aware sampling.

        Args:
            labels (Tensor, optional): (N,) class of every image; None
                (a training set without labels) is refused.
        """
        if labels is None:
            raise ConfigError(
                "model.negatives='class' draws negatives from other "
                'classes but the training set gives no labels: set '
                "model.negatives='uniform' (label-free)")
        labels = torch.as_tensor(labels, dtype=torch.long,
                                 device=self.normalizers.device).flatten()
        if labels.numel() != self.num_samples or (labels < 0).any():
            raise ConfigError(
                "model.negatives='class' needs the label of every training "
                f'image: got {labels.numel()} labels ({int((labels < 0).sum())}'
                f' unlabelled) for {self.num_samples} images; set '
                "model.negatives='uniform' for unlabelled data")
        count = torch.bincount(labels)
        if (count == labels.numel()).any():
            raise ConfigError(
                "model.negatives='class' needs images of at least two "
                "classes: set model.negatives='uniform'")
        self.by_class = torch.argsort(labels, stable=True)
        self.class_count = count[labels]
        self.class_start = (torch.cumsum(count, 0) - count)[labels]

    def sample(self, index: Tensor) -> Tensor:
        """Rows to contrast for each image: itself, then ``K`` negatives.

        Args:
            index (Tensor): (B,) dataset indices of the batch.

        Returns:
            Tensor: (B, K + 1) bank rows, column 0 the image's own.
        """
        n, k = self.num_samples, self.num_negatives
        if n == 0:
            raise ConfigError(
                'the memory banks are not sized: add '
                "dict(type='mmseed.MemoryBankHook') to custom_hooks (it "
                'sizes them from train_dataloader.dataset) or set '
                'model.num_samples')
        index = index.to(self.student.device)
        if self.class_aware:
            if self.by_class.numel() != n:
                raise ConfigError(
                    "model.negatives='class' needs the training labels, "
                    "which dict(type='mmseed.MemoryBankHook') in "
                    'custom_hooks gives before training')
            # Uniform over the images outside the class's run in by_class.
            start = self.class_start[index].unsqueeze(1)
            count = self.class_count[index].unsqueeze(1)
            pool = n - count
        else:
            start, count, pool = index.unsqueeze(1), 1, n - 1
        draw = torch.rand(len(index), k, dtype=torch.float64,
                          device=index.device)
        draw = (draw * pool).long().clamp_(max=pool - 1)
        draw = draw + (draw >= start) * count
        negatives = self.by_class[draw] if self.class_aware else draw
        return torch.cat([index.unsqueeze(1), negatives], dim=1)

    def read(self, rows: Tensor) -> Tuple[Tensor, Tensor]:
        """The student and teacher bank rows of ``rows`` (B, K + 1), each
        (B, K + 1, D), detached."""
        flat = rows.flatten()
        return (self.student[flat].view(*rows.shape, self.dim),
                self.teacher[flat].view(*rows.shape, self.dim))

    def normalise(self, student_scores: Tensor,
                  teacher_scores: Tensor) -> Tuple[Tensor, Tensor]:
        """Divide the scores of each anchor direction by its constant Z.

        Z is ``mean(scores) * N`` of the first batch (averaged over ranks)
        and then fixed, as the reference does, so that ``scores / Z``
        estimates a probability over the N images.

        Args:
            student_scores (Tensor): (B, K + 1) scores of student anchors
                against the teacher bank.
            teacher_scores (Tensor): The same of teacher anchors against the
                student bank.

        Returns:
            Tuple[Tensor, Tensor]: Both divided by their Z.
        """
        if (self.normalizers < 0).any():
            first = torch.stack([student_scores.detach().float().mean(),
                                 teacher_scores.detach().float().mean()])
            all_reduce(first, op='mean')
            self.normalizers.copy_(first * self.num_samples)
        return (student_scores / self.normalizers[0],
                teacher_scores / self.normalizers[1])

    @torch.no_grad()
    def update(self, index: Tensor, student: Tensor, teacher: Tensor) -> None:
        """Move the rows of the global batch towards its new embeddings.

        Args:
            index (Tensor): (B,) dataset indices on this rank.
            student (Tensor): (B, D) L2-normalised student embeddings.
            teacher (Tensor): (B, D) L2-normalised teacher embeddings.
        """
        index = torch.cat(all_gather(index.to(self.student.device)))
        student = torch.cat(all_gather(student.detach().float().contiguous()))
        teacher = torch.cat(all_gather(teacher.detach().float().contiguous()))
        # One image twice in the global batch (a padded last DDP batch):
        # keep its last embedding, so every rank writes the same rows.
        order = torch.argsort(index, stable=True)
        last = torch.ones_like(order, dtype=torch.bool)
        last[:-1] = index[order][1:] != index[order][:-1]
        keep = order[last]
        index = index[keep]
        for bank, new in ((self.student, student[keep]),
                          (self.teacher, teacher[keep])):
            mixed = bank[index] * self.momentum + new * (1 - self.momentum)
            bank[index] = F.normalize(mixed, dim=1)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Take the checkpoint's bank size while unsized (evaluation, or a
        resume before the hook); refuse another size."""
        stored = state_dict.get(prefix + 'student')
        if stored is not None:
            if self.num_samples == 0:
                for name in ('student', 'teacher'):
                    setattr(self, name, torch.empty_like(
                        stored, device=self.normalizers.device))
            elif stored.shape != self.student.shape:
                raise CheckpointError(
                    f'the checkpoint\'s memory banks ({prefix[:-1]}) hold '
                    f'{stored.shape[0]} rows of {stored.shape[1]} but this '
                    f'run has {self.num_samples} of {self.dim}: resume on the '
                    'training set the checkpoint was trained on')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        mode = 'class' if self.class_aware else 'uniform'
        return (f'num_samples={self.num_samples}, dim={self.dim}, '
                f'num_negatives={self.num_negatives}, '
                f'momentum={self.momentum}, negatives={mode!r}')
