# SimCLRv2 step 2 on ImageNet: fine-tune the pretrained ResNet-50 on SimCLR's
# 1% subset (make_label_subset.py from-list 1percent.txt) from the head's
# first layer, zero-initialised classifier, batch 1024 (8 x 128), LARS lr
# 0.005 x sqrt(1024) = 0.16, no weight decay, 60 epochs, global BatchNorm
# (google-research/simclr README, 1% fine-tuning command); crop + flip.
#   --cfg-options model.init_cfg.checkpoint=PATH
_base_ = [
    '../_base_/models/resnet50.py',
    '../_base_/datasets/imagenet_linear.py',
    '../_base_/schedules/simclrv2_finetune_lars_60e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    init_cfg=dict(type='Pretrained', checkpoint=''),
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet50,
    neck=dict(type='SimCLRv2Neck', in_channels=_base_.resnet50_channels,
              num_layers=3, use_layers=1),
    head=dict(type='LinearClsHead', num_classes=1000,
              in_channels=_base_.resnet50_channels,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5),
              init_cfg=dict(type='Constant', val=0, layer='Linear')))
train_dataloader = dict(batch_size=128,
                        dataset=dict(ann_file='meta/train_1percent.txt'))
optim_wrapper = dict(optimizer=dict(lr=0.16))
sync_bn = 'torch'
