# DoGo on CIFAR-10 with the official template's pair (NeurAI-Lab/DoGo
# config/template.yaml): a SimCLR ResNet-18 peer 1 and a SimSiam ResNet-18
# peer 2. SimSiam's projector Linear(512, 2048)-BN-ReLU-Linear(2048, 2048)-
# BN-ReLU-Linear(2048, 2048)-BN and predictor Linear(2048, 512, no bias)-BN-
# ReLU-Linear(512, 2048) (models/simsiam.py; n_proj 2048); its KL term uses
# the predictor outputs. SimSiam's views: colour jitter (0.4, 0.4, 0.4, 0.1)
# with p 0.8, greyscale applied twice at 0.2 (p 0.36 in all, as the official
# simsiam_transform.py does), crop scale 0.2-1 (SimSiam, Chen & He 2021).
_base_ = ['./dogo_r18-cifar_r18-cifar_1xb256-200e_cifar10.py']

views = [
    dict(name='peer1', num_views=2, **_base_.simclr_view),
    dict(name='peer2', num_views=2, size=32, scale=(0.2, 1.),
         gray_prob=0.36),
]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='SafeLoadImageFromFile'),
    dict(type='MultiViewGroups', views=views),
    dict(type='PackInputs'),
]))
model = dict(peer2=dict(
    objective='simsiam',
    neck=dict(_delete_=True, type='NonLinearNeck',
              in_channels=_base_.resnet18_cifar_channels, hid_channels=2048,
              out_channels=2048, num_layers=3, with_bias=True,
              with_last_bias=True, with_last_bn=True, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    predictor=dict(type='NonLinearNeck', in_channels=2048, hid_channels=512,
                   out_channels=2048, num_layers=2, with_bias=False,
                   with_last_bias=True, with_last_bn=False,
                   with_avg_pool=False, norm_cfg=dict(type='BN1d'))))
