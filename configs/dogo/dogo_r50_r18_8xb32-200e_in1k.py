# DoGo on ImageNet: a ResNet-50 peer 1 and a ResNet-18 peer 2, both SimCLR,
# 8 GPUs x 32 = 256 images per step (DoGo's batch), peer 2 evaluated. Views:
# DoGo's SimCLR augmentation at 224 px, which adds a Gaussian blur with
# probability 0.5 (NeurAI-Lab/DoGo augmentations/helper.py). The official
# code, for images of 100 px and more, keeps torchvision's 1000-way fc as the
# feature the head projects (models/simclr.py); mmseed projects the pooled
# backbone feature, as SimCLR does (2048-d, 512-d).
_base_ = [
    '../_base_/models/resnet50.py',
    '../_base_/models/resnet18.py',
    '../_base_/datasets/imagenet_mocov2.py',
    '../_base_/schedules/adam_200e.py',
    '../_base_/default_runtime.py',
]

simclr_view = dict(size=224, scale=(0.08, 1.), jitter=(0.8, 0.8, 0.8, 0.2),
                   blur_prob=0.5)
views = [
    dict(name='peer1', num_views=2, **simclr_view),
    dict(name='peer2', num_views=2, **simclr_view),
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiViewGroups', views=views),
    dict(type='PackInputs'),
]))


simclr_head = dict(type='NonLinearNeck', hid_channels=512, out_channels=128,
                   num_layers=2, with_bias=False, with_last_bias=True,
                   with_last_bn=False, with_avg_pool=True,
                   norm_cfg=dict(type='BN1d'))


model = dict(
    type='DoGo',
    data_preprocessor=_base_.data_preprocessor,
    peer1=dict(backbone=_base_.resnet50,
               neck=dict(simclr_head, in_channels=_base_.resnet50_channels),
               objective='simclr', temperature=0.5, mutual_weight=100.),
    peer2=dict(backbone=_base_.resnet18,
               neck=dict(simclr_head, in_channels=_base_.resnet18_channels),
               objective='simclr', temperature=0.5, mutual_weight=1.),
    mutual_temperature=0.1,
    kl_reduction='mean',
    eval_peer='peer2')
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    peer1=dict(type='OptimWrapper', optimizer=_base_.optimizer),
    peer2=dict(type='OptimWrapper', optimizer=_base_.optimizer))
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
