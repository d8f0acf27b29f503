# DoGo on CIFAR-10: ResNet-18 peer 1 with a half-width ResNet-18 peer 2 (the
# small student of the SEED CIFAR configs), both SimCLR; peer 2 is evaluated.
_base_ = [
    './dogo_r18-cifar_r18-cifar_1xb256-200e_cifar10.py',
    '../_base_/models/resnet18w05_cifar.py',
]

model = dict(peer2=dict(
    backbone=_base_.resnet18w05_cifar,
    neck=dict(in_channels=_base_.resnet18w05_cifar_channels)))
