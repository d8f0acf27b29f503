from .crd_loss import contrast_scores, crd_nce_loss
from .dino_loss import dino_targets, dino_view_loss, region_matching_loss
from .functional import (cosine_similarity_matrix, fp32, kl_divergence,
                         queue_logits, soft_cross_entropy)
from .kd_loss import soft_label_distillation
from .mutual_kl import mutual_similarity_kl, similarity_kl
from .nt_xent import NTXentLoss, gather_with_grad, nt_xent
from .seed_loss import SEEDLoss, seed_loss
from .simsiam_loss import simsiam_loss

__all__ = [
    'SEEDLoss', 'seed_loss', 'contrast_scores', 'crd_nce_loss',
    'dino_targets', 'dino_view_loss', 'region_matching_loss', 'cosine_similarity_matrix', 'fp32',
    'kl_divergence', 'queue_logits', 'soft_cross_entropy',
    'soft_label_distillation', 'mutual_similarity_kl', 'similarity_kl',
    'NTXentLoss', 'gather_with_grad', 'nt_xent', 'simsiam_loss'
]
