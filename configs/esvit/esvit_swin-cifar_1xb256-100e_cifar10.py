# EsViT on CIFAR-10 at CPU scale. Reduced from the paper's Swin-T / 224 px,
# to train on 2 CPU cores and on 32-px images:
# - Swin with 3 stages (embed 48, depths [2, 2, 2], heads [3, 6, 12]),
#   patch 2, window 4: 16 region tokens per 32-px global crop, 4 per 16-px
#   local crop (Swin-T at 224 / 96 px: 49 and 9); pad_small_map for the
#   local crops' 2 x 2 last stage;
# - heads with 4096 outputs and hidden width 512 (paper 65536 / 2048);
# - 100 epochs, batch 256, 10 warm-up epochs (paper 300, 512, 10).
# Kept: both losses at 0.5, student T 0.1, teacher T 0.04 -> 0.07 (here over
# 30 epochs), teacher momentum 0.996 -> 1, AdamW lr 5e-4 x batch/256, wd
# 0.04 -> 0.4, per-parameter clipping at 3, last layer frozen in epoch 0,
# 2 global + 8 local crops.
_base_ = [
    '../_base_/models/swin_cifar.py',
    '../_base_/datasets/cifar10_esvit.py',
    '../_base_/evaluation/cifar10_knn.py',
    '../_base_/schedules/adamw_coslr_warmup_300e.py',
    '../_base_/default_runtime.py',
]

head = dict(type='DINOHead', in_channels=_base_.swin_cifar_channels,
            out_dim=4096,
            hidden_dim=512, bottleneck_dim=256, norm_last_layer=False)
model = dict(
    type='EsViT',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.swin_cifar,
    head=head,
    region_head=dict(head, type='RegionMatchingHead'),
    teacher_temp=0.07,
    warmup_teacher_temp=0.04,
    warmup_teacher_temp_epochs=30)
# DINO's gradient edits and weight-decay schedule (the clip is per
# parameter, so mmengine's global clip_grad is off).
optim_wrapper = dict(clip_grad=None)
custom_hooks = _base_.custom_hooks + [
    dict(type='PerParameterGradClipHook', max_norm=3.0),
    dict(type='FreezeParametersHook', name='last_layer', epochs=1),
    dict(type='CosineWeightDecayHook', end=0.4),
]
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=90, eta_min=1e-6, by_epoch=True,
         begin=10, end=100, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=100, val_interval=10, val_begin=10)
default_hooks = dict(checkpoint=dict(interval=5), logger=dict(interval=20))
