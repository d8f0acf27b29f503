# MoCo-v2 baseline for the CIFAR-10 SEED student: the half-width ResNet-18 of
# configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py trained alone with
# MoCo-v2, same projection head, epochs, batch and augmentation, so the two
# students differ only in the objective.
_base_ = [
    './mocov2_r18-cifar_1xb256-200e_cifar10.py',
    '../_base_/models/resnet18w05_cifar.py',
]

model = dict(
    backbone=_base_.resnet18w05_cifar,
    neck=dict(in_channels=_base_.resnet18w05_cifar_channels,
              hid_channels=_base_.resnet18w05_cifar_channels))
