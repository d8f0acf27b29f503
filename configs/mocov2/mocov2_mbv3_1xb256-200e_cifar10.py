# MoCo-v2 baseline for the CIFAR-10 SEED MobileNetV3-Large student of
# configs/seed/seed_r18-cifar_to_mbv3_cifar10.py: same backbone, projection
# head, epochs, batch and augmentation; only the objective differs.
_base_ = [
    './mocov2_r18-cifar_1xb256-200e_cifar10.py',
    '../_base_/models/mobilenet_v3_large.py',
]

model = dict(
    backbone=dict(_delete_=True, **_base_.mobilenet_v3_large),
    neck=dict(in_channels=_base_.mobilenet_v3_large_channels,
              hid_channels=1280))
