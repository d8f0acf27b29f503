# SEED on CIFAR-10: one 32-px view per image (the MoCo-v2 CIFAR augmentation),
# seen by both teacher and student.
_base_ = ['./cifar10_mocov2.py']

train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiView', num_views=1, transforms=[_base_.view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
