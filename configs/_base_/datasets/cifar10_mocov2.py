# CIFAR-10 in the folder layout written by
# tools/dataset_converters/prepare_cifar10.py (data/cifar10/train/<class>/),
# two 32-px views with the MoCo-v2 augmentation minus blur, which CIFAR
# recipes drop at this resolution (as the MoCo CIFAR-10 demo of
# facebookresearch/moco does).
data_root = 'data/cifar10'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    # CIFAR-10 training-set channel statistics (RGB, 0-255).
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=True)

view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.),
         backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                          saturation=0.4, hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='RandomFlip', prob=0.5),
]
# A corrupt or truncated image is skipped with a warning that names it and
# counts the skips (on_corrupt='error' stops instead).
train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    drop_last=True,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root=data_root,
                 data_prefix='train', pipeline=train_pipeline))
