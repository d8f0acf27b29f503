# Weighted kNN evaluation on ImageNet in the folder layout
# (data/imagenet/{train,val}/<class>/*.JPEG): val/ images are classified by
# their k = 20 / 200 nearest train/ images, T = 0.07, at 224 px (resize the
# short side to 256 with bicubic interpolation, center-crop 224), as DINO's
# eval_knn.py (Caron et al., 2021) does.
# Data elsewhere: --cfg-options test_dataloader.dataset.data_root=PATH (and/or
# val_dataloader...); the bank reads train/ under the same root.
knn_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    # SelfSupDataPreprocessor (MoCo, SEED) takes only default_collate batches.
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root='data/imagenet',
                 data_prefix='val', pipeline=knn_pipeline))
test_dataloader = val_dataloader
knn_bank_dataloader = dict(
    val_dataloader,
    dataset=dict(type='CustomDataset', data_prefix='train',
                 pipeline=knn_pipeline))
val_evaluator = dict(type='KNNAccuracy', k=(20, 200), temperature=0.07)
test_evaluator = val_evaluator
val_cfg = dict(type='KNNValLoop', bank_dataloader=knn_bank_dataloader)
test_cfg = dict(type='KNNTestLoop', bank_dataloader=knn_bank_dataloader)
