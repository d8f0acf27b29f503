# Fine-tuning the whole network on a 1% label subset, the SimCLR protocol
# (Chen et al., ICML 2020, appendix B.5; google-research/simclr,
# --train_mode=finetune): SGD with Nesterov momentum 0.9, lr 0.05 x batch/256
# without warm-up, cosine decay, no weight decay (no regularisation at all),
# 60 epochs for 1% of the labels (the 10% configs shorten it to 30).
# Validation every 10 epochs and after the last one.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.,
                   nesterov=True))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=60, by_epoch=True, begin=0, end=60,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
