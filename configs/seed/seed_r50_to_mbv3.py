# SEED: MoCo-v2 ResNet-50 -> MobileNetV3-Large (Fang et al., 2021, Table 1).
_base_ = ['./seed_r50_to_r18.py', '../_base_/models/mobilenet_v3_large.py']

model = dict(
    # The official student with PyTorch's BatchNorm defaults (the base
    # model file says why).
    backbone=dict(_delete_=True, **_base_.mobilenet_v3_large),
    # Its head keeps MobileNetV3's classifier layer (960 -> 1280, h-swish,
    # dropout 0.2) and replaces the last Linear by SEED's MLP (builder.py,
    # --student_mlp): 3,033,728 parameters.
    neck=dict(
        _delete_=True,
        type='MLPNeck',
        in_channels=_base_.mobilenet_v3_large_channels,
        layers=[
            dict(linear=1280), dict(act='HSwish'), dict(dropout=0.2),
            dict(linear=1280), dict(act='ReLU'), dict(linear=128),
        ]))
