# DoGo on CIFAR-10: ResNet-50 (CIFAR stem) peer 1 with a ResNet-18 peer 2,
# both SimCLR; peer 2, the small network, is evaluated.
_base_ = [
    './dogo_r18-cifar_r18-cifar_1xb256-200e_cifar10.py',
    '../_base_/models/resnet50_cifar.py',
]

model = dict(peer1=dict(
    backbone=_base_.resnet50_cifar,
    neck=dict(in_channels=_base_.resnet50_cifar_channels)))
