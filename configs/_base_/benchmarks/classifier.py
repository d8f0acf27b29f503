# The classifier that linear evaluation and semi-supervised fine-tuning train:
# a backbone initialised from a checkpoint's backbone.* weights, global
# average pooling, a linear layer with mmpretrain's N(0, 0.01) initialisation
# (as MoCo's and SEED's main_lincls.py initialise fc; SimCLR zero-initialises
# it). Each config adds the backbone, the dataset's data_preprocessor,
# num_classes and in_channels; linear evaluation also freezes the backbone.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        # Set by tools/benchmarks/{linear,semi}.sh, or
        # --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, 5)))
