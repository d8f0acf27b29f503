# DoGo (Bhat et al., 2021) on CIFAR-10: two ResNet-18 (CIFAR stem) peers,
# each trained with SimCLR and the mutual similarity KL, one Adam each.
# Official recipe (NeurAI-Lab/DoGo, branch dogo): projection head
# Linear(d, 512, no bias)-BN-ReLU-Linear(512, 128) with normalised outputs,
# NT-Xent T 0.5, KL T 0.1 with F.kl_div's element mean, criterion_weight
# [1, 1, 100, 1] (peer 1's KL x 100, peer 2's x 1), Adam 3e-4 / wd 1e-6,
# batch 256, drop_last. The other DoGo configs inherit this one.
_base_ = [
    '../_base_/models/resnet18_cifar.py',
    '../_base_/datasets/cifar10_dogo.py',
    '../_base_/evaluation/cifar10_knn.py',
    '../_base_/schedules/adam_200e.py',
    '../_base_/default_runtime.py',
]

simclr_head = dict(
    type='NonLinearNeck',
    in_channels=_base_.resnet18_cifar_channels,
    hid_channels=512,
    out_channels=128,
    num_layers=2,
    with_bias=False,
    with_last_bias=True,
    with_last_bn=False,
    with_avg_pool=True,
    norm_cfg=dict(type='BN1d'))
model = dict(
    type='DoGo',
    data_preprocessor=_base_.data_preprocessor,
    peer1=dict(backbone=_base_.resnet18_cifar, neck=simclr_head,
               objective='simclr', temperature=0.5, mutual_weight=100.),
    peer2=dict(backbone=_base_.resnet18_cifar, neck=simclr_head,
               objective='simclr', temperature=0.5, mutual_weight=1.),
    mutual_temperature=0.1,
    kl_reduction='mean',
    eval_peer='peer2')

# One optimizer per peer.
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    peer1=dict(type='OptimWrapper', optimizer=_base_.optimizer),
    peer2=dict(type='OptimWrapper', optimizer=_base_.optimizer))
# Under DDP each peer is wrapped on its own (mmengine's wrapper for models
# with several optimizers).
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel')
default_hooks = dict(checkpoint=dict(interval=5), logger=dict(interval=20))
# kNN accuracy of peer 2's backbone at epochs 10, 20, ...
train_cfg = dict(val_interval=10, val_begin=10)
