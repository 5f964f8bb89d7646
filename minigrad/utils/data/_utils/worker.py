"""``torch.utils.data._utils.worker``: what a DataLoader worker process knows about itself."""

from .._worker import WorkerInfo, get_worker_info

__all__ = ["WorkerInfo", "get_worker_info"]
