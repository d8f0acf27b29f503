# Linear classification on frozen features, the SEED protocol (Fang et al.,
# ICLR 2021; main_lincls.py of jacobswan1/SEED, itself MoCo's): SGD lr 30 for
# a total batch of 256 (the official code scales it by batch/256), momentum
# 0.9, no weight decay, 100 epochs, lr x0.1 at epochs 60 and 80. Validation
# every 10 epochs and after the last one.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=30., momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
