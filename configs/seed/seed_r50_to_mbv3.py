# SEED: MoCo-v2 ResNet-50 -> MobileNetV3-Large (Fang et al., 2021, Table 1).
_base_ = ['./seed_r50_to_r18.py', '../_base_/models/mobilenet_v3_large.py']

model = dict(
    backbone=dict(_delete_=True, **_base_.mobilenet_v3_large),
    # The official student feeds the 1280-wide classifier layer of
    # MobileNetV3 to the head; here the 960-wide backbone output is projected
    # through a 1280-wide hidden layer instead.
    neck=dict(in_channels=_base_.mobilenet_v3_large_channels,
              hid_channels=1280))
