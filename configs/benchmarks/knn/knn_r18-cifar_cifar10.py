# Weighted kNN accuracy on CIFAR-10 of a CIFAR ResNet-18, e.g. the MoCo-v2
# teacher of configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py.
_base_ = [
    './knn_r18w05-cifar_cifar10.py',
    '../../_base_/models/resnet18_cifar.py',
]

model = dict(
    backbone=dict(_delete_=True, init_cfg=_base_.model.backbone.init_cfg,
                  **_base_.resnet18_cifar))
