"""Reseeding the random-number generators at the start of every epoch."""
import random

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmseed.registry import HOOKS

__all__ = ['EpochSeedHook']


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Seed Python, numpy and torch with ``runner.seed + epoch`` each epoch.

    mmengine seeds the generators once, when the runner starts, so a resumed
    run draws other random numbers (augmentations in the main process, the
    dataloader's worker base seed, dropout) than an uninterrupted run did
    after the same epoch. Seeding from the epoch makes every epoch's draws a
    function of ``(seed, epoch)`` alone, so ``N`` epochs and ``N/2`` epochs +
    ``--resume`` + ``N/2`` give the same weights (with a fixed seed and
    non-persistent or no dataloader workers, whose own seeds mmengine sets).
    The seed comes from ``randomness.seed`` (or the one mmengine drew and
    stored in the checkpoint); with ``randomness.diff_rank_seed`` each rank
    adds its rank.
    """

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        seed = runner.seed + runner.epoch
        if runner._randomness_cfg.get('diff_rank_seed', False):
            seed += get_rank()
        seed %= 2**32
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # also seeds every CUDA device
