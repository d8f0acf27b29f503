# Semi-supervised evaluation of a full-width CIFAR ResNet-18 on CIFAR-10 with
# 1% of the labels; see resnet18w05-cifar_1xb256-ft-coslr-60e_cifar10-1pct.py.
_base_ = [
    './resnet18w05-cifar_1xb256-ft-coslr-60e_cifar10-1pct.py',
    '../../_base_/models/resnet18_cifar.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        **_base_.resnet18_cifar,
        init_cfg=_base_.model.backbone.init_cfg),
    head=dict(in_channels=_base_.resnet18_cifar_channels))
