# CRD on ImageNet: a supervised ResNet-34 -> ResNet-18 from scratch, CE +
# 0.8 CRD, K = 16384 class-aware negatives, T 0.07, 128-d embeddings.
# RepDistiller releases no ImageNet training script; the recipe is the one
# the public reproductions use for this pair (torchdistill
# configs/official/ilsvrc2012/yoshitomo-matsubara/rrpr2020/
# crd-resnet18_from_resnet34.yaml, mdistiller configs/imagenet/r34_r18/
# crd.yaml): SGD lr 0.1 for batch 256, momentum 0.9, wd 1e-4, 100 epochs,
# x0.1 at 30/60/90. The banks hold 2 x 1,281,167 x 128 fp32 values (1.3 GB)
# on every GPU.
# Teacher: mmpretrain's resnet34_8xb32_in1k checkpoint (an ImageClassifier:
# backbone.*, head.fc.*), --cfg-options model.teacher.checkpoint=PATH
_base_ = [
    '../_base_/models/resnet18.py',
    '../_base_/models/resnet34.py',
    '../_base_/datasets/imagenet_linear.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='CRD',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000,
              in_channels=_base_.resnet18_channels,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5),
              init_cfg=None),  # PyTorch's Linear init, as RepDistiller
    teacher=dict(
        type='FrozenTeacher',
        backbone=_base_.resnet34,
        head=dict(type='LinearClsHead', num_classes=1000,
                  in_channels=_base_.resnet34_channels),
        checkpoint='checkpoints/resnet34_8xb32_in1k.pth'),
    student_embed=dict(type='LinearNeck', in_channels=_base_.resnet18_channels,
                       out_channels=128, norm_cfg=None),
    teacher_embed=dict(type='LinearNeck', in_channels=_base_.resnet34_channels,
                       out_channels=128, norm_cfg=None),
    num_negatives=16384,
    negatives='class',
    ce_weight=1.,
    kd_weight=0.,
    crd_weight=0.8)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90],
         gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
custom_hooks = _base_.custom_hooks + [dict(type='MemoryBankHook')]
default_hooks = dict(checkpoint=dict(interval=5))
