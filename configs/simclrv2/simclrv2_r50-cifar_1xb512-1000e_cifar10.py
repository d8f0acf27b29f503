# SimCLRv2 pretraining of a ResNet-50 (CIFAR stem) on CIFAR-10: the ResNet-18
# config with ResNet-50 (the official command with --resnet_depth=50); the
# head's hidden width follows the 2048-d feature.
_base_ = [
    './simclrv2_r18-cifar_1xb512-1000e_cifar10.py',
    '../_base_/models/resnet50_cifar.py',
]

model = dict(
    backbone=dict(_delete_=True, **_base_.resnet50_cifar),
    neck=dict(in_channels=_base_.resnet50_cifar_channels))
