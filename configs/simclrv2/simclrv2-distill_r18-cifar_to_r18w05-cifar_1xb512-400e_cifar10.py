# SimCLRv2 step 3: distil the fine-tuned ResNet-18 (step 2, 10% of the
# labels) into a half-width ResNet-18 trained from scratch on all CIFAR-10
# training images without their labels: the loss is the cross-entropy of the
# teacher's softmax at temperature T against the student's (paper eq. 2,
# T = 1, alpha = 1: no labelled term). Crop + flip only (the first author,
# google-research/simclr issue #81). The official code releases no
# distillation script; the optimiser and schedule here are the pretraining
# ones (LARS, wd 1e-4, batch 512, lr 1.0 x batch/256, 10 warm-up epochs,
# cosine) for the paper's 400 epochs. Set the teacher with
#   --cfg-options model.teacher.checkpoint=PATH
_base_ = [
    '../_base_/models/resnet18_cifar.py',
    '../_base_/models/resnet18w05_cifar.py',
    '../_base_/datasets/cifar10_linear.py',
    '../_base_/schedules/simclrv2_lars_coslr_1000e.py',
    '../_base_/default_runtime.py',
]

# The fine-tuned classifier of simclrv2-ft_*: backbone, the head's first
# layer, the linear classifier on it.
teacher = dict(
    type='FrozenTeacher',
    backbone=_base_.resnet18_cifar,
    neck=dict(type='SimCLRv2Neck', in_channels=_base_.resnet18_cifar_channels,
              num_layers=3, use_layers=1),
    head=dict(type='LinearClsHead', num_classes=10,
              in_channels=_base_.resnet18_cifar_channels),
    head_input='embedding',
    checkpoint='')
model = dict(
    type='SimCLRv2Distiller',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18w05_cifar,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10,
              in_channels=_base_.resnet18w05_cifar_channels,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5)),
    teacher=teacher,
    temperature=1.,
    alpha=1.)
train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.08, 1.),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# Every training image; their labels are not read (alpha = 1).
train_dataloader = dict(batch_size=512, drop_last=True,
                        dataset=dict(pipeline=train_pipeline))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=390, by_epoch=True, begin=10,
         end=400, convert_to_iter_based=True),
]
# Test-split accuracy of the student every 10 epochs.
train_cfg = dict(max_epochs=400, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(interval=10), logger=dict(interval=20))
