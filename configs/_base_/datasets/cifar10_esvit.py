# EsViT / DINO multi-crop on CIFAR-10 at 32 px: 2 global crops (scale
# 0.4-1; blur 1.0 on the first, 0.1 plus solarize 0.2 on the second) and 8
# local crops of 16 px (scale 0.05-0.4, blur 0.5), colour jitter
# 0.4/0.4/0.2/0.1 (DataAugmentationDINO of facebookresearch/dino and
# microsoft/esvit; the paper's 224 / 96 px scaled to CIFAR's 32 / 16).
_base_ = ['./cifar10_mocov2.py']

dino = dict(jitter=(0.4, 0.4, 0.2, 0.1))
views = [
    dict(name='global', num_views=1, size=32, scale=(0.4, 1.),
         blur_prob=1.0, **dino),
    dict(name='global', num_views=1, size=32, scale=(0.4, 1.),
         blur_prob=0.1, solarize_prob=0.2, **dino),
    dict(name='local', num_views=8, size=16, scale=(0.05, 0.4),
         blur_prob=0.5, **dino),
]
train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiViewGroups', views=views),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
