# SimCLRv2 step 2: fine-tune the pretrained ResNet-18 (CIFAR stem) on 1% of
# the CIFAR-10 labels (50 images a class, make_label_subset.py seed 0) "from
# the middle layer": the classifier sits on the first layer of the 3-layer
# pretraining head (ft_proj_selector=1), zero-initialised, and the whole
# network is fine-tuned with the official schedule at batch 256; random
# resized crop + flip, no colour augmentation (tf2/data.py: colour jitter off
# when fine-tuning). Set the checkpoint of step 1 with
#   --cfg-options model.init_cfg.checkpoint=PATH
# (its backbone.* and neck.layers.0.* start the network; a checkpoint without
# the head is refused: use_layers=0 fine-tunes from the backbone alone).
_base_ = [
    '../_base_/models/resnet18_cifar.py',
    '../_base_/datasets/cifar10_linear.py',
    '../_base_/schedules/simclrv2_finetune_lars_60e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    init_cfg=dict(type='Pretrained', checkpoint=''),
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18_cifar,
    neck=dict(type='SimCLRv2Neck', in_channels=_base_.resnet18_cifar_channels,
              num_layers=3, use_layers=1),
    head=dict(type='LinearClsHead', num_classes=10,
              in_channels=_base_.resnet18_cifar_channels,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5),
              init_cfg=dict(type='Constant', val=0, layer='Linear')))
train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.08, 1.),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# "<class>/<file> <label>" lines, relative to data_root/train.
train_dataloader = dict(dataset=dict(ann_file='meta/train_1pct_seed0.txt',
                                     pipeline=train_pipeline))
