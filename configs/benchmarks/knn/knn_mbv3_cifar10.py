# Weighted kNN accuracy on CIFAR-10 of the MobileNetV3-Large student of
# configs/seed/seed_r18-cifar_to_mbv3_cifar10.py.
_base_ = [
    './knn_r18w05-cifar_cifar10.py',
    '../../_base_/models/mobilenet_v3_large.py',
]

model = dict(
    backbone=dict(_delete_=True, init_cfg=_base_.model.backbone.init_cfg,
                  **_base_.mobilenet_v3_large))
