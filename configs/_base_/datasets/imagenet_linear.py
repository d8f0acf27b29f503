# ImageNet classification for the benchmarks (linear evaluation and
# semi-supervised fine-tuning), folder layout: data/imagenet/train/<wnid>/ and
# data/imagenet/val/<wnid>/ (the validation images sorted into class folders,
# as MoCo's and SEED's main_lincls.py read them). Training: 224-px random
# resized crop + horizontal flip; evaluation: short side 256, centre crop 224
# (the MoCo / SEED linear-classification and SimCLR fine-tuning pipelines).
# 8 GPUs x 32 images = 256 per step.
# Another data root: --cfg-options {train,val,test}_dataloader.dataset.data_root=PATH
# (tools/benchmarks/*.sh: DATA_ROOT=PATH sets all three).
data_root = 'data/imagenet'
data_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=1000,
    # ImageNet channel statistics (RGB, 0-255), as in pretraining.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='SafeLoadImageFromFile'),  # skips a corrupt image, warns
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix='train', pipeline=train_pipeline))
# The same loader settings, unshuffled, on the held-out split.
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
