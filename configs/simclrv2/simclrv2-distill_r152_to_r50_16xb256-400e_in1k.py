# SimCLRv2 step 3 on ImageNet: distil a fine-tuned ResNet-152 (the 1% or 10%
# fine-tune of simclrv2_r152_*) into a ResNet-50 trained from scratch on all
# training images without labels (T = 1, alpha = 1), 400 epochs, crop +
# flip. Optimiser and schedule: the pretraining ones (LARS lr 0.1 x
# sqrt(4096), wd 1e-4, batch 4096, 5% warm-up), which the official code does
# not state for distillation.
#   --cfg-options model.teacher.checkpoint=PATH
_base_ = [
    '../_base_/models/resnet50.py',
    '../_base_/models/resnet152.py',
    '../_base_/datasets/imagenet_linear.py',
    '../_base_/schedules/simclrv2_lars_coslr_1000e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SimCLRv2Distiller',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet50,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000,
              in_channels=_base_.resnet50_channels,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5)),
    teacher=dict(
        type='FrozenTeacher',
        backbone=_base_.resnet152,
        neck=dict(type='SimCLRv2Neck', in_channels=_base_.resnet152_channels,
                  num_layers=3, use_layers=1),
        head=dict(type='LinearClsHead', num_classes=1000,
                  in_channels=_base_.resnet152_channels),
        head_input='embedding',
        checkpoint=''),
    temperature=1.,
    alpha=1.)
train_dataloader = dict(batch_size=256, drop_last=True)
optim_wrapper = dict(optimizer=dict(lr=6.4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=380, by_epoch=True, begin=20,
         end=400, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=400, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(_delete_=True)
sync_bn = 'torch'
