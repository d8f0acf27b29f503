# Weighted kNN evaluation on CIFAR-10 (folder layout of
# tools/dataset_converters/prepare_cifar10.py): test/ images are classified by
# their k = 20 / 200 nearest train/ images (the bank), T = 0.07 (InstDisc, Wu
# et al., 2018; DINO, Caron et al., 2021), both without augmentation.
# Data elsewhere: --cfg-options val_dataloader.dataset.data_root=PATH (and/or
# test_dataloader...); the bank reads train/ under the same root.
knn_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    # SelfSupDataPreprocessor (MoCo, SEED) takes only default_collate batches.
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root='data/cifar10',
                 data_prefix='test', pipeline=knn_pipeline))
test_dataloader = val_dataloader
knn_bank_dataloader = dict(
    val_dataloader,
    dataset=dict(type='CustomDataset', data_prefix='train',
                 pipeline=knn_pipeline))
val_evaluator = dict(type='KNNAccuracy', k=(20, 200), temperature=0.07)
test_evaluator = val_evaluator
val_cfg = dict(type='KNNValLoop', bank_dataloader=knn_bank_dataloader)
test_cfg = dict(type='KNNTestLoop', bank_dataloader=knn_bank_dataloader)
