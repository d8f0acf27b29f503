# SimCLR alone on CIFAR-10, half-width ResNet-18: the same-budget baseline
# of DoGo's peer 2. Network, projection head, NT-Xent temperature, views
# (two of DoGo's SimCLR views), Adam, epochs and batch are read from the DoGo
# config, without the other peer and the KL term.
_base_ = ['../dogo/dogo_r18-cifar_r18w05-cifar_1xb256-200e_cifar10.py']

peer = _base_.model.peer2
model = dict(
    _delete_=True,
    type='SimCLR',
    data_preprocessor=_base_.data_preprocessor,
    backbone=peer.backbone,
    neck=peer.neck,
    temperature=peer.temperature)
views = [dict(name='views', num_views=2, **_base_.simclr_view)]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiViewGroups', views=views),
    dict(type='PackInputs'),
]))
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=_base_.optimizer)
model_wrapper_cfg = dict(_delete_=True, type='MMDistributedDataParallel')
