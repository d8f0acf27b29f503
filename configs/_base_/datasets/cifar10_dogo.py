# CIFAR-10 for DoGo: four 32-px views per image, two for each peer, each
# drawn independently (NeurAI-Lab/DoGo augmentations/helper.py MultiTransform),
# with DoGo's SimCLR CIFAR augmentation (simclr_transform.py, helper.py):
# random resized crop at the default scale 0.08-1, horizontal flip, colour
# jitter (0.8, 0.8, 0.8, 0.2) with probability 0.8, greyscale 0.2, no blur.
_base_ = ['./cifar10_mocov2.py']

simclr_view = dict(size=32, scale=(0.08, 1.), jitter=(0.8, 0.8, 0.8, 0.2))
views = [
    dict(name='peer1', num_views=2, **simclr_view),
    dict(name='peer2', num_views=2, **simclr_view),
]
train_pipeline = [
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiViewGroups', views=views),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
