# CIFAR-10 with the augmentation on the device: the images are decoded once
# into memory (InMemoryImageDataset; data/cifar10/train/<class>/ as written by
# tools/dataset_converters/prepare_cifar10.py), dataloader workers only hand
# over uint8 batches, and MultiViewAugmentPreprocessor makes the views on the
# GPU with the distribution of cifar10_mocov2.py's CPU view_pipeline (crop
# scale 0.2-1, colour jitter 0.4/0.4/0.4/0.1 with p 0.8 in random order,
# greyscale p 0.2, flip p 0.5; tests/test_models/test_data_preprocessors/
# test_multiview_augment.py checks that they match). Outside training it only
# normalises, so the kNN evaluation sees plain images.
#
# Layer it over a CIFAR-10 method config (its names do not clash with the
# method's own dataset base):
#   _base_ = ['<method config>.py', '../_base_/datasets/cifar10_gpu_aug.py']
#   model = dict(data_preprocessor=_base_.gpu_aug_preprocessor)
#   train_dataloader = _base_.gpu_aug_train_dataloader
#
# The same views as a multi-view spec (mmseed/models/utils/views.py; its
# defaults are this recipe, and it also states several groups with their own
# size, blur and solarize): instead of num_views ... flip_prob, give
#   views=[dict(name='views', num_views=2, size=32)]
# (tests/test_models/test_data_preprocessors/test_view_groups.py checks that
# both draw the same views).
gpu_aug_preprocessor = dict(
    type='MultiViewAugmentPreprocessor',
    num_views=2,
    crop_size=32,
    crop_scale=(0.2, 1.),
    crop_ratio=(3. / 4., 4. / 3.),
    jitter_prob=0.8,
    brightness=0.4,
    contrast=0.4,
    saturation=0.4,
    hue=0.1,
    gray_prob=0.2,
    # The dataset stores BGR (as mmcv decodes): weights in B, G, R order.
    gray_weights=(0.114, 0.587, 0.2989),
    flip_prob=0.5,
    # CIFAR-10 training-set channel statistics (RGB, 0-255), as
    # cifar10_mocov2.py.
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=True)

# The pipeline only packs the stored uint8 image; one worker keeps up.
gpu_aug_dataset = dict(
    type='InMemoryImageDataset', pipeline=[dict(type='PackInputs')])
gpu_aug_train_dataloader = dict(
    batch_size=256,
    num_workers=1,
    drop_last=True,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(gpu_aug_dataset, data_root='data/cifar10',
                 data_prefix='train'))
