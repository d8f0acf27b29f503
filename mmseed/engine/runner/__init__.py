from .knn_loop import KNNTestLoop, KNNValLoop, extract_features

__all__ = ['KNNTestLoop', 'KNNValLoop', 'extract_features']
