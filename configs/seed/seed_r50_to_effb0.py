# SEED: MoCo-v2 ResNet-50 -> EfficientNet-B0 (Fang et al., 2021, Table 1).
_base_ = ['./seed_r50_to_r18.py', '../_base_/models/efficientnet_b0.py']

model = dict(
    backbone=dict(_delete_=True, **_base_.efficientnet_b0),
    neck=dict(in_channels=_base_.efficientnet_b0_channels,
              hid_channels=_base_.efficientnet_b0_channels))
