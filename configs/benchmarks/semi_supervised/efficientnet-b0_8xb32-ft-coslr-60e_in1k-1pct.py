# Semi-supervised evaluation of a distilled EfficientNet-B0 on ImageNet with 1%
# of the labels: the same SimCLR fine-tuning protocol as the ResNets; see
# resnet18_8xb32-ft-coslr-60e_in1k-1pct.py.
_base_ = [
    './resnet18_8xb32-ft-coslr-60e_in1k-1pct.py',
    '../../_base_/models/efficientnet_b0.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        **_base_.efficientnet_b0,
        init_cfg=_base_.model.backbone.init_cfg),
    head=dict(in_channels=_base_.efficientnet_b0_channels))
