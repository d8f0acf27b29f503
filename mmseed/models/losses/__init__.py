from .functional import (cosine_similarity_matrix, fp32, kl_divergence,
                         queue_logits, soft_cross_entropy)
from .seed_loss import SEEDLoss, seed_loss

__all__ = [
    'SEEDLoss', 'seed_loss', 'cosine_similarity_matrix', 'fp32',
    'kl_divergence', 'queue_logits', 'soft_cross_entropy'
]
