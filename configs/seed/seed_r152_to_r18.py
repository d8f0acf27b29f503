# SEED: MoCo-v2 ResNet-152 teacher -> ResNet-18 (Fang et al., 2021, Table 1).
# Teacher checkpoint: a MoCo-v2 ResNet-152 (e.g. trained with
# configs/mocov2 after changing the depth); set model.teacher.checkpoint.
_base_ = ['./seed_r50_to_r18.py', '../_base_/models/resnet152.py']

model = dict(
    teacher=dict(
        backbone=_base_.resnet152,
        neck=dict(in_channels=_base_.resnet152_channels),
        checkpoint='checkpoints/mocov2_r152.pth'))
