# Adam, lr 3e-4, weight decay 1e-6 (L2, torch's Adam), constant lr, 200
# epochs: DoGo's optimiser (NeurAI-Lab/DoGo train.py; its cosine schedule has
# eta_min = the base lr, so the lr stays 3e-4). The epochs are mmseed's CIFAR
# budget, as the other CIFAR-10 configs (DoGo's template runs 3).
optimizer = dict(type='Adam', lr=3e-4, weight_decay=1e-6)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
param_scheduler = [
    dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=200)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
# For --auto-scale-lr only (DoGo does not scale its lr with the batch).
auto_scale_lr = dict(base_batch_size=256)
