# SEED on CIFAR-10: MoCo-v2 ResNet-18 teacher -> MobileNetV3-Large student.
_base_ = [
    './seed_r18-cifar_to_r18w05-cifar_cifar10.py',
    '../_base_/models/mobilenet_v3_large.py',
]

model = dict(
    backbone=dict(_delete_=True, **_base_.mobilenet_v3_large),
    neck=dict(in_channels=_base_.mobilenet_v3_large_channels,
              hid_channels=1280))
