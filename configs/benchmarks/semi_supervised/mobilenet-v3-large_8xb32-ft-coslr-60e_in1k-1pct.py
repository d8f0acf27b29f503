# Semi-supervised evaluation of a distilled MobileNetV3-Large on ImageNet with
# 1% of the labels: the same SimCLR fine-tuning protocol as the ResNets; see
# resnet18_8xb32-ft-coslr-60e_in1k-1pct.py.
_base_ = [
    './resnet18_8xb32-ft-coslr-60e_in1k-1pct.py',
    '../../_base_/models/mobilenet_v3_large.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        **_base_.mobilenet_v3_large,
        init_cfg=_base_.model.backbone.init_cfg),
    head=dict(in_channels=_base_.mobilenet_v3_large_channels))
