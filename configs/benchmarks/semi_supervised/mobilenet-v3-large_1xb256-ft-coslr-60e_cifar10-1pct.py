# Semi-supervised evaluation of the CIFAR-10 MobileNetV3-Large student
# (configs/seed/seed_r18-cifar_to_mbv3_cifar10.py) on CIFAR-10 with 1% of
# the labels, the same SimCLR fine-tuning protocol as the ResNets; see
# resnet18w05-cifar_1xb256-ft-coslr-60e_cifar10-1pct.py.
_base_ = [
    './resnet18w05-cifar_1xb256-ft-coslr-60e_cifar10-1pct.py',
    '../../_base_/models/mobilenet_v3_large.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        **_base_.mobilenet_v3_large,
        init_cfg=_base_.model.backbone.init_cfg),
    head=dict(in_channels=_base_.mobilenet_v3_large_channels))
