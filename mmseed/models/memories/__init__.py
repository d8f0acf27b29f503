from .contrast_banks import ContrastBanks
from .embedding_queue import EmbeddingQueue

__all__ = ['ContrastBanks', 'EmbeddingQueue']
