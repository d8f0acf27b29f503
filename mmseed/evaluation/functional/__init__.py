from .knn import weighted_knn_predict, weighted_knn_scores

__all__ = ['weighted_knn_predict', 'weighted_knn_scores']
