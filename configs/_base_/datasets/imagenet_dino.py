# ImageNet in the folder layout, DINO multi-crop (Caron et al., 2021): two
# 224-px global views (scale 0.25-1; DINO's default for ViT-S is 0.4) and
# eight 96-px local views (scale 0.05-0.25), as EsViT trains Swin.
_base_ = ['./imagenet_mocov2.py']

global_crop_scale = (0.25, 1.0)
local_crop_scale = (0.05, 0.25)
num_local_crops = 8

color_distortion = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                          saturation=0.2, hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
]
global_view_1 = [
    dict(type='RandomResizedCrop', scale=224,
         crop_ratio_range=global_crop_scale, backend='pillow'),
    *color_distortion,
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
         prob=1.0),
]
global_view_2 = [
    dict(type='RandomResizedCrop', scale=224,
         crop_ratio_range=global_crop_scale, backend='pillow'),
    *color_distortion,
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
         prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
local_view = [
    dict(type='RandomResizedCrop', scale=96, crop_ratio_range=local_crop_scale,
         backend='pillow'),
    *color_distortion,
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
         prob=0.5),
]
train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1, num_local_crops],
         transforms=[global_view_1, global_view_2, local_view]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
