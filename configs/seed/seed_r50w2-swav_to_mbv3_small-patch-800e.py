# SEED small-patch variant: SwAV ResNet-50x2 teacher -> MobileNetV3-Large,
# 800 epochs (Fang et al., 2021: 36.3 with MoCo-v2 alone -> 68.2 with SEED,
# the paper's small-patch, 800-epoch setting; the official repository
# releases no MobileNetV3-L small-patch model to compare with).
_base_ = [
    './seed_r50w2-swav_to_effb0_small-patch-800e.py',
    '../_base_/models/mobilenet_v3_large.py',
]

# The student of seed_r50_to_mbv3.py (the official MobileNetV3-Large
# student: PyTorch BatchNorm defaults; classifier layer + SEED's MLP).
model = dict(
    backbone=dict(_delete_=True, **_base_.mobilenet_v3_large),
    neck=dict(
        _delete_=True,
        type='MLPNeck',
        in_channels=_base_.mobilenet_v3_large_channels,
        layers=[
            dict(linear=1280), dict(act='HSwish'), dict(dropout=0.2),
            dict(linear=1280), dict(act='ReLU'), dict(linear=128),
        ]))
