from .seed_loss import SEEDLoss, seed_loss

__all__ = ['SEEDLoss', 'seed_loss']
