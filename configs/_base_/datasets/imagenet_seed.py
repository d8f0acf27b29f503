# SEED's input: ONE MoCo-v2-augmented 224-px view per image, which the
# teacher and the student both see (Fang et al., 2021; jacobswan1/SEED).
_base_ = ['./imagenet_mocov2.py']

train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiView', num_views=1, transforms=[_base_.view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
