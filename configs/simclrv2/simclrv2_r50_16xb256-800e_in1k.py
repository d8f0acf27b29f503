# SimCLRv2 pretraining of a ResNet-50 on ImageNet (Chen et al., NeurIPS 2020,
# Sec. 3.1): batch 4096 (16 GPUs x 256) with global (synchronised) BatchNorm,
# 800 epochs, LARS lr 0.1 x sqrt(batch) = 6.4 with a warm-up over 5% of the
# run (40 epochs), as the first author states the paper's settings
# (google-research/simclr issue #77; the README's example command, 0.075 x
# sqrt(B) and 10 warm-up epochs for 100 epochs, is SimCLR v1's), wd 1e-4,
# temperature 0.1, SimCLR augmentation with blur, the 3-layer head
# (2048-2048-128). For a global batch B set optim_wrapper.optimizer.lr=
# 0.1*sqrt(B) (auto_scale_lr is linear, so it is off here).
_base_ = [
    '../_base_/models/resnet50.py',
    '../_base_/datasets/imagenet_simclr.py',
    '../_base_/schedules/simclrv2_lars_coslr_1000e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SimCLRv2',
    temperature=0.1,
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet50,
    neck=dict(type='SimCLRv2Neck', in_channels=_base_.resnet50_channels,
              out_channels=128, num_layers=3))
train_dataloader = dict(batch_size=256)
optim_wrapper = dict(optimizer=dict(lr=6.4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=760, by_epoch=True, begin=40,
         end=800, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
auto_scale_lr = dict(_delete_=True)
# Global BatchNorm ("global_bn", every replica's batch) under DDP.
sync_bn = 'torch'
default_hooks = dict(checkpoint=dict(interval=10))
