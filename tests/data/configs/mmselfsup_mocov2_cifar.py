# A tiny MoCo-v2 config written for mmselfsup 1.0.0's own registries
# (default_scope='mmselfsup'), used to check that mmseed keeps such configs
# trainable. Paths and sizes are set by the test.
default_scope = 'mmselfsup'

model = dict(
    type='MoCo',
    queue_len=32,
    feat_dim=16,
    momentum=0.01,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=18, in_channels=3, out_indices=[4]),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32,
              out_channels=16, with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='mmcls.CrossEntropyLoss'),
              temperature=0.2))

view_pipeline = [
    dict(type='RandomResizedCrop', size=32, scale=(0.2, 1.), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='mmcls.CustomDataset',
        data_root='data/cifar10',
        data_prefix='train',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
            dict(type='PackSelfSupInputs', meta_keys=['img_path']),
        ]))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False))
visualizer = dict(type='SelfSupVisualizer',
                  vis_backends=[dict(type='LocalVisBackend')])
