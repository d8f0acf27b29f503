# SEED small-patch variant: SwAV ResNet-50x2 teacher -> MobileNetV3-Large
# (Fang et al., 2021: 36.3 with MoCo-v2 alone -> 68.2 with SEED).
_base_ = [
    './seed_r50w2-swav_to_effb0_small-patch.py',
    '../_base_/models/mobilenet_v3_large.py',
]

model = dict(
    backbone=dict(_delete_=True, **_base_.mobilenet_v3_large),
    neck=dict(in_channels=_base_.mobilenet_v3_large_channels,
              hid_channels=1280))
