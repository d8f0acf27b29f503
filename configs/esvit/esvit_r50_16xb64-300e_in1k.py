# EsViT with ResNet-50: the positions of the last feature map (7 x 7 for
# 224 px, 3 x 3 for 96 px) are the regions (microsoft/esvit
# utils.ResNetWrapper), BatchNorm synchronised across GPUs as the official
# code converts it. The README's ResNet-50 checkpoint was trained with lr
# 5e-4 on 16 GPUs x 64 for 300 epochs; the rest follows the Swin-T recipe.
# Paper: 75.7% linear / 71.3% kNN (75.0 / 69.1 with the view loss alone).
_base_ = [
    './esvit_swin-tiny_16xb32-300e_in1k.py', '../_base_/models/resnet50.py'
]

head = dict(_base_.head, in_channels=_base_.resnet50_channels)
model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=50,
                  norm_cfg=dict(type='SyncBN'), zero_init_residual=False),
    head=head,
    region_head=dict(head, type='RegionMatchingHead'))
train_dataloader = dict(batch_size=64)
