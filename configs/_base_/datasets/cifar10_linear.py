# CIFAR-10 classification for the benchmarks (linear evaluation and
# semi-supervised fine-tuning): folder layout data/cifar10/{train,test}/<class>/
# (tools/dataset_converters/prepare_cifar10.py), 32 px, the standard CIFAR
# augmentation (random crop with 4-px zero padding, horizontal flip; He et
# al., 2016), the un-augmented test split for validation and testing.
# Another data root: --cfg-options {train,val,test}_dataloader.dataset.data_root=PATH
# (tools/benchmarks/*.sh: DATA_ROOT=PATH sets all three).
data_root = 'data/cifar10'
data_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=10,
    # The pretraining statistics of cifar10_mocov2.py (CIFAR-10 training set,
    # RGB, 0-255), so the student sees inputs normalised as in distillation.
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=True)

train_pipeline = [
    dict(type='SafeLoadImageFromFile'),  # skips a corrupt image, warns
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    # Keep the last partial batch: a 1%-label subset has only 500 images.
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
                 data_prefix='test', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
