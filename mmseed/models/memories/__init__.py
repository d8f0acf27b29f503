from .embedding_queue import EmbeddingQueue

__all__ = ['EmbeddingQueue']
