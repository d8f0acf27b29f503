# The model a kNN benchmark tests: a backbone loaded from a checkpoint's
# backbone.* weights and global average pooling, no head (the KNN loops of
# _base_/evaluation/ classify the pooled features). Each config adds the
# backbone and its pretraining data_preprocessor.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        # Set by tools/benchmarks/knn.sh, or
        # --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.')),
    neck=dict(type='GlobalAveragePooling'))
