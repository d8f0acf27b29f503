# SEED: MoCo-v2 ResNet-50 -> ResNet-34 (Fang et al., 2021, Table 1).
_base_ = ['./seed_r50_to_r18.py', '../_base_/models/resnet34.py']

model = dict(
    backbone=_base_.resnet34,
    neck=dict(in_channels=_base_.resnet34_channels,
              hid_channels=_base_.resnet34_channels))
