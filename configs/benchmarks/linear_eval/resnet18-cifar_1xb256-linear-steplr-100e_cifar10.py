# Linear evaluation of a full-width CIFAR ResNet-18 (a student, or the
# CIFAR-10 MoCo-v2 teacher of configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py)
# on CIFAR-10 with the SEED protocol; see
# resnet18w05-cifar_1xb256-linear-steplr-100e_cifar10.py.
_base_ = [
    './resnet18w05-cifar_1xb256-linear-steplr-100e_cifar10.py',
    '../../_base_/models/resnet18_cifar.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        **_base_.resnet18_cifar,
        frozen_stages=4,
        norm_eval=True,
        init_cfg=_base_.model.backbone.init_cfg),
    head=dict(in_channels=_base_.resnet18_cifar_channels))
