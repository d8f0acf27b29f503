# SEED small-patch variant: SwAV ResNet-50x2 teacher -> EfficientNet-B0, the
# setting of the paper's headline numbers (Fang et al., 2021: EfficientNet-B0
# 42.2 with MoCo-v2 alone -> 67.6 with SEED). Six extra 96-px crops per image
# are distilled against a second queue (jacobswan1/SEED small_patch_builder).
# Teacher: the official SwAV checkpoint swav_RN50w2_400ep_pretrain.pth.tar
# (facebookresearch/swav); its prototypes are dropped.
_base_ = ['./seed_r50_to_effb0.py', '../_base_/models/resnet50w2.py']

# One 224-px view with crop scale 0.14-1 and six 96-px crops with scale
# 0.05-0.14, all with the MoCo-v2 colour augmentation (official SEED).
num_patches = 6
color_blur_flip = _base_.view_pipeline[1:]
global_view = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.14, 1.),
         backend='pillow'),
    *color_blur_flip,
]
small_patch = [
    dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.05, 0.14),
         backend='pillow'),
    *color_blur_flip,
]
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='SafeLoadImageFromFile'),
        dict(type='MultiView', num_views=[1, num_patches],
             transforms=[global_view, small_patch]),
        dict(type='PackInputs'),
    ]))

model = dict(
    num_patches=num_patches,
    teacher=dict(
        backbone=_base_.resnet50w2,
        # SwAV's projection head: Linear(4096, 8192)-BN-ReLU-Linear(8192, 128).
        neck=dict(
            _delete_=True,
            type='SwAVNeck',
            in_channels=_base_.resnet50w2_channels,
            hid_channels=8192,
            out_channels=128,
            with_avg_pool=True,
            norm_cfg=dict(type='BN1d')),
        checkpoint='checkpoints/swav_RN50w2_400ep_pretrain.pth.tar'))
