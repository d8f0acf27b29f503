# DINO / EsViT multi-crop on ImageNet (Caron et al., 2021; Li et al., 2021):
# 2 global crops of 224 px (scale 0.4-1; blur 1.0 on the first, 0.1 plus
# solarize 0.2 on the second) and 8 local crops of 96 px (scale 0.05-0.4,
# blur 0.5), colour jitter 0.4/0.4/0.2/0.1 with p 0.8, greyscale 0.2, flip
# 0.5: DataAugmentationDINO with the defaults of microsoft/esvit
# main_esvit.py (--global_crops_scale 0.4 1, --local_crops_scale 0.05 0.4,
# --local_crops_number 8, --local_crops_size 96), which its Swin-T launch
# keeps.
_base_ = ['./imagenet_mocov2.py']

dino = dict(jitter=(0.4, 0.4, 0.2, 0.1))
views = [
    dict(name='global', num_views=1, size=224, scale=(0.4, 1.),
         blur_prob=1.0, **dino),
    dict(name='global', num_views=1, size=224, scale=(0.4, 1.),
         blur_prob=0.1, solarize_prob=0.2, **dino),
    dict(name='local', num_views=8, size=96, scale=(0.05, 0.4),
         blur_prob=0.5, **dino),
]
train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiViewGroups', views=views),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
