# SEED small-patch variant: SwAV ResNet-50x2 teacher -> EfficientNet-B0, the
# setting of the paper's headline numbers (Fang et al., 2021: EfficientNet-B0
# 42.2 with MoCo-v2 alone -> 67.6 with SEED). Six extra 96-px crops per image
# are distilled against a second queue (jacobswan1/SEED small_patch_builder).
# Teacher: the official SwAV checkpoint swav_RN50w2_400ep_pretrain.pth.tar
# (facebookresearch/swav); its prototypes are dropped. 800 epochs, as the
# official README's small-patch SwAV ResNet-50x2 -> EfficientNet-B0 model
# (jacobswan1/SEED: AMP_SMALL_PATCH_800).
_base_ = ['./seed_r50_to_effb0.py', '../_base_/models/resnet50w2.py']

# One 224-px view with crop scale 0.14-1 and six 96-px crops with scale
# 0.05-0.14, all with the MoCo-v2 colour augmentation and blur (official SEED),
# stated as a multi-view spec (mmseed/models/utils/views.py).
num_patches = 6
views = [
    dict(name='global', num_views=1, size=224, scale=(0.14, 1.),
         blur_prob=0.5),
    dict(name='patch', num_views=num_patches, size=96, scale=(0.05, 0.14),
         blur_prob=0.5),
]
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='SafeLoadImageFromFile'),
        dict(type='MultiViewGroups', views=views),
        dict(type='PackInputs'),
    ]))

model = dict(
    num_patches=num_patches,
    teacher=dict(
        backbone=_base_.resnet50w2,
        # SwAV's projection head: Linear(4096, 8192)-BN-ReLU-Linear(8192, 128),
        # as SwAVNeck (same weights) with the feature-tuple interface.
        neck=dict(
            _delete_=True,
            type='SwAVProjectionNeck',
            in_channels=_base_.resnet50w2_channels,
            hid_channels=8192,
            out_channels=128,
            with_avg_pool=True,
            norm_cfg=dict(type='BN1d')),
        checkpoint='checkpoints/swav_RN50w2_400ep_pretrain.pth.tar'))

# 800 epochs with the official lr rule of seed_r50_to_r18.py.
param_scheduler = [
    dict(type='WarmupCosineLR', warmup=5, warmup_start_lr=0.03, T_max=800,
         by_epoch=True)
]
train_cfg = dict(max_epochs=800)
