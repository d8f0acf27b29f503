# Semi-supervised evaluation of a full-width CIFAR ResNet-18 on CIFAR-10 with
# 10% of the labels; see resnet18w05-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py.
_base_ = [
    './resnet18w05-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py',
    '../../_base_/models/resnet18_cifar.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        **_base_.resnet18_cifar,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    head=dict(in_channels=_base_.resnet18_cifar_channels))
