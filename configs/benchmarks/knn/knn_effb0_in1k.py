# Weighted kNN accuracy on ImageNet of an EfficientNet-B0 student, e.g. of
# configs/seed/seed_r50_to_effb0.py.
_base_ = [
    './knn_r18_in1k.py',
    '../../_base_/models/efficientnet_b0.py',
]

model = dict(
    backbone=dict(_delete_=True, init_cfg=_base_.model.backbone.init_cfg,
                  **_base_.efficientnet_b0))
