# Weighted kNN accuracy on ImageNet of a MobileNetV3-Large student, e.g. of
# configs/seed/seed_r50_to_mbv3.py.
_base_ = [
    './knn_r18_in1k.py',
    '../../_base_/models/mobilenet_v3_large.py',
]

model = dict(
    backbone=dict(_delete_=True, init_cfg=_base_.model.backbone.init_cfg,
                  **_base_.mobilenet_v3_large))
